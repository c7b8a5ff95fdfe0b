using System;
using System.Collections.Generic;
using Gf.Client.Core.Protocol;
using UnityEngine;

namespace Gf.Client.Unity
{
    /// <summary>
    /// A list of prompts at fixed times (seconds after the session opens): a cutscene, a day/night cycle, a
    /// scripted tour. Create one with Assets → Create → Gf → Prompt Timeline; play it with a
    /// <see cref="PromptTimelinePlayer"/>.
    /// </summary>
    [CreateAssetMenu(menuName = "Gf/Prompt Timeline", fileName = "PromptTimeline")]
    public sealed class PromptTimeline : ScriptableObject
    {
        [Serializable]
        public sealed class PromptEvent
        {
            [Min(0)] public float atSeconds;
            [TextArea] public string text = "";
            public PromptSource source = PromptSource.Script;
            public bool sceneCut;
        }

        [SerializeField] List<PromptEvent> events = new List<PromptEvent>();

        public IReadOnlyList<PromptEvent> Events => events;

        /// <summary>The events in time order (ties keep their list order).</summary>
        public PromptEvent[] InTimeOrder()
        {
            var ordered = new List<PromptEvent>(events.Count);
            foreach (PromptEvent e in events)
            {
                if (e != null && !string.IsNullOrWhiteSpace(e.text)) ordered.Add(e);
            }
            // A stable sort: List.Sort is not, so order by (time, original index).
            var indexed = new List<KeyValuePair<int, PromptEvent>>();
            for (int i = 0; i < ordered.Count; i++) indexed.Add(new KeyValuePair<int, PromptEvent>(i, ordered[i]));
            indexed.Sort((a, b) =>
            {
                int byTime = a.Value.atSeconds.CompareTo(b.Value.atSeconds);
                return byTime != 0 ? byTime : a.Key.CompareTo(b.Key);
            });
            var result = new PromptEvent[indexed.Count];
            for (int i = 0; i < result.Length; i++) result[i] = indexed[i].Value;
            return result;
        }
    }
}
