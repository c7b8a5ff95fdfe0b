using UnityEngine;

namespace Gf.Client.Unity
{
    /// <summary>Plays a <see cref="PromptTimeline"/>: its clock starts when the client's session is streaming.</summary>
    [AddComponentMenu("Gf/Prompt Timeline Player")]
    public sealed class PromptTimelinePlayer : MonoBehaviour
    {
        [SerializeField] WorldStreamClient client;
        [SerializeField] PromptTimeline timeline;

        PromptTimeline.PromptEvent[] ordered;
        float startedAt;
        int next;

        /// <summary>Seconds since the timeline started; negative before.</summary>
        public float Elapsed => ordered == null ? -1f : Time.time - startedAt;

        void Update()
        {
            if (client == null || timeline == null || !client.IsStreaming) return;
            if (ordered == null)
            {
                ordered = timeline.InTimeOrder();
                startedAt = Time.time;
                next = 0;
            }
            float elapsed = Time.time - startedAt;
            while (next < ordered.Length && ordered[next].atSeconds <= elapsed)
            {
                PromptTimeline.PromptEvent due = ordered[next++];
                client.SendPrompt(due.text, due.source, due.sceneCut);
            }
        }

        /// <summary>Play again from the start (at the next frame the session is streaming).</summary>
        public void Restart() => ordered = null;
    }
}
