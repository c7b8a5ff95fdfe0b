using Gf.Client.Core.Protocol;
using Gf.Client.Unity;
using UnityEngine;
using UnityEngine.UI;

namespace Gf.Client.Samples
{
    /// <summary>The player types what the world should become and presses Enter: a player prompt.</summary>
    [RequireComponent(typeof(InputField))]
    public sealed class PlayerPromptBox : MonoBehaviour
    {
        [SerializeField] WorldStreamClient client;
        [Tooltip("Also start a new place (flush the short-term memory)")]
        [SerializeField] bool sceneCut;

        InputField field;

        void Awake() => field = GetComponent<InputField>();

        void OnEnable() => field.onEndEdit.AddListener(Submit);

        void OnDisable() => field.onEndEdit.RemoveListener(Submit);

        void Submit(string text)
        {
            // onEndEdit also fires when the field loses focus; send only on Enter.
            if (!Input.GetKeyDown(KeyCode.Return) && !Input.GetKeyDown(KeyCode.KeypadEnter)) return;
            if (string.IsNullOrWhiteSpace(text)) return;
            client.SendPrompt(text.Trim(), PromptSource.Player, sceneCut);
            field.text = "";
            field.ActivateInputField();
        }
    }
}
