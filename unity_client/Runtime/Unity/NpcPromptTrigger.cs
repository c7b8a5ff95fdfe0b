using Gf.Client.Core.Protocol;
using UnityEngine;

namespace Gf.Client.Unity
{
    /// <summary>
    /// Sends a scripted prompt when something happens: a tagged object enters this object's trigger collider, a
    /// timer runs out, or a dialogue system calls <see cref="Fire"/> / <see cref="Say"/> (wire them to a UnityEvent).
    ///
    /// For the trigger, give this GameObject a Collider with "Is Trigger" on (or a Collider2D), and the player a
    /// Rigidbody (Unity sends trigger messages only when one of the two has one).
    /// </summary>
    [AddComponentMenu("Gf/NPC Prompt Trigger")]
    public sealed class NpcPromptTrigger : MonoBehaviour
    {
        [SerializeField] WorldStreamClient client;

        [Header("What")]
        [TextArea] [SerializeField] string prompt = "the desert at night";
        [SerializeField] PromptSource source = PromptSource.Npc;
        [Tooltip("Also flush the short-term memory: a new place")]
        [SerializeField] bool sceneCut;

        [Header("When")]
        [SerializeField] bool onTriggerEnter = true;
        [Tooltip("Only objects with this tag fire the trigger; empty for any")]
        [SerializeField] string requiredTag = "Player";
        [Tooltip("Seconds after enabling until the prompt is sent; 0 for no timer")]
        [Min(0)] [SerializeField] float timerSeconds;
        [SerializeField] bool repeatTimer;
        [Tooltip("Least time between two prompts from this trigger")]
        [Min(0)] [SerializeField] float cooldownSeconds = 5f;
        [SerializeField] bool onlyOnce;

        float timerStartedAt;
        float lastSentAt = float.NegativeInfinity;
        bool timerRunning;
        bool sent;

        void OnEnable()
        {
            timerStartedAt = Time.time;
            timerRunning = timerSeconds > 0f;
        }

        void Update()
        {
            if (!timerRunning || Time.time - timerStartedAt < timerSeconds) return;
            timerStartedAt = Time.time;
            timerRunning = repeatTimer;
            Fire();
        }

        void OnTriggerEnter(Collider other)
        {
            if (onTriggerEnter && Matches(other.gameObject)) Fire();
        }

        void OnTriggerEnter2D(Collider2D other)
        {
            if (onTriggerEnter && Matches(other.gameObject)) Fire();
        }

        /// <summary>Send the scripted prompt (subject to the cooldown and "only once").</summary>
        public void Fire() => Say(prompt);

        /// <summary>Dialogue hook: send this line as the NPC's prompt.</summary>
        public void Say(string line)
        {
            if (client == null)
            {
                Debug.LogWarning("[gf] NpcPromptTrigger on '" + name + "' has no WorldStreamClient assigned", this);
                return;
            }
            if (string.IsNullOrWhiteSpace(line) || (onlyOnce && sent) || Time.time - lastSentAt < cooldownSeconds) return;
            lastSentAt = Time.time;
            sent = true;
            client.SendPrompt(line, source, sceneCut);
        }

        bool Matches(GameObject other) => string.IsNullOrEmpty(requiredTag) || other.CompareTag(requiredTag);
    }
}
