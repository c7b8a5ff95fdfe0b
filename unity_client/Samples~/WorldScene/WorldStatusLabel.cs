using Gf.Client.Core.Protocol;
using Gf.Client.Unity;
using UnityEngine;
using UnityEngine.UI;

namespace Gf.Client.Samples
{
    /// <summary>A one-line status: connection, generated fps, lag in frames, and the last prompt that took effect.</summary>
    [RequireComponent(typeof(Text))]
    public sealed class WorldStatusLabel : MonoBehaviour
    {
        [SerializeField] WorldStreamClient client;

        Text label;
        string connection = "connecting";
        string stats = "";
        string lastApplied = "";

        void Awake() => label = GetComponent<Text>();

        void OnEnable()
        {
            client.ConnectionChanged += OnConnection;
            client.StatsReceived += OnStats;
            client.Applied += OnApplied;
        }

        void OnDisable()
        {
            client.ConnectionChanged -= OnConnection;
            client.StatsReceived -= OnStats;
            client.Applied -= OnApplied;
        }

        void OnConnection(Gf.Client.Core.ConnectionEvent change) => connection = change.Kind.ToString().ToLowerInvariant();

        void OnStats(SessionStats s) => stats = s.GeneratedFps.ToString("0.0") + " fps, lag " + s.Lag + " frames";

        void OnApplied(AppliedEvent applied) => lastApplied = applied.Kind + " at chunk " + applied.Chunk;

        void Update()
        {
            FrameHeader frame = client.CurrentFrame;
            label.text = connection + (client.IsStreaming ? " | " + stats : "") +
                (frame != null ? " | frame " + frame.Frame : "") + (lastApplied.Length > 0 ? " | " + lastApplied : "");
        }
    }
}
