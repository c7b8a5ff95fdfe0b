using System;
using System.Threading.Tasks;
using Gf.Client.Core;
using Gf.Client.Core.Protocol;
using Gf.Client.Core.Transport;
using UnityEngine;
using UnityEngine.Events;

namespace Gf.Client.Unity
{
    /// <summary>Raised with the texture the world is drawn into, whenever a new one is created (first frame, size change).</summary>
    [Serializable]
    public sealed class TextureEvent : UnityEvent<Texture>
    {
    }

    /// <summary>
    /// Streams a generated world from <c>gf serve</c> into a Texture2D, and sends the player's and the game's prompts.
    ///
    /// A thin MonoBehaviour over <see cref="WorldStream"/> (plain C#): it connects in OnEnable, uploads the newest
    /// frame in Update (main thread) and disconnects in OnDisable. Socket work happens on the connection's receive
    /// thread; nothing here touches Unity objects from another thread.
    /// </summary>
    [DisallowMultipleComponent]
    [AddComponentMenu("Gf/World Stream Client")]
    public sealed class WorldStreamClient : MonoBehaviour
    {
        /// <summary>Seed captures are this size when the server's frame size is not known yet.</summary>
        const int FallbackSeedSide = 256;

        [Header("Server")]
        [Tooltip("The endpoint gf serve prints, e.g. tcp://127.0.0.1:5555")]
        [SerializeField] string endpoint = ConnectionOptions.DefaultEndpoint;
        [Tooltip("Shown in the server's log")]
        [SerializeField] string clientName = "unity";
        [Tooltip("Folder made by `gf keys` holding server.key and <key name>.key_secret; empty for a server without --curve-keys")]
        [SerializeField] string curveKeysFolder = "";
        [SerializeField] string curveKeyName = "client";
        [SerializeField] bool connectOnEnable = true;

        [Header("Session")]
        [TextArea] [SerializeField] string openingPrompt = "a red ball in the grassland";
        [SerializeField] long seed;
        [Tooltip("grounded, self_forcing, longlive or full; empty for the server's default")]
        [SerializeField] string policy = "";
        [SerializeField] FrameFormat format = FrameFormat.RawRgb;
        [Tooltip("Output size in pixels; 0 x 0 for the model's own size")]
        [SerializeField] Vector2Int outputSize = Vector2Int.zero;
        [Range(1, 100)] [SerializeField] int jpegQuality = ProtocolConstants.DefaultJpegQuality;
        [Tooltip("Frames in flight (flow control): 1-3 shows the newest picture")]
        [Range(1, 16)] [SerializeField] int window = SessionOptions.DefaultClientWindow;
        [SerializeField] Pace pace = Pace.Realtime;

        [Header("Output")]
        [Tooltip("Show a chunk's frames (which arrive together) one frame interval apart: every frame at the stream's fps. " +
                 "Off: the newest frame as soon as it arrives (one frame per chunk)")]
        [SerializeField] bool smoothPlayback = true;
        [SerializeField] FilterMode filterMode = FilterMode.Bilinear;
        [SerializeField] TextureEvent textureCreated = new TextureEvent();
        [SerializeField] bool logEvents = true;

        WorldConnection connection;
        WorldStream stream;
        Texture2D texture;
        byte[] bottomUpRows; // a raw_rgb frame with its rows reversed for LoadRawTextureData

        /// <summary>The texture the world is drawn into (null before the first frame).</summary>
        public Texture2D Texture => texture;
        /// <summary>The session (null while disconnected).</summary>
        public WorldStream Stream => stream;
        public bool IsStreaming => stream != null && stream.State == StreamState.Streaming;
        /// <summary>The header of the frame on screen.</summary>
        public FrameHeader CurrentFrame { get; private set; }

        public event Action<AppliedEvent> Applied;
        public event Action<SessionStats> StatsReceived;
        public event Action<ConnectionEvent> ConnectionChanged;

        void OnEnable()
        {
            if (connectOnEnable) Connect();
        }

        void OnDisable() => Disconnect();

        /// <summary>Connect and open the session (in the background; watch <see cref="IsStreaming"/>).</summary>
        public void Connect()
        {
            if (connection != null) return;
            CurveClientKeys curve = string.IsNullOrEmpty(curveKeysFolder)
                ? null
                : CurveClientKeys.FromFolder(curveKeysFolder, curveKeyName);
            var options = new SessionOptions(openingPrompt, seed, policy, format, outputSize.x, outputSize.y,
                jpegQuality, window, pace);
            connection = new WorldConnection(new ConnectionOptions(endpoint, clientName, curve, smoothPlayback: smoothPlayback));
            connection.Start();
            stream = new WorldStream(connection, options);
            stream.Opened += reply => Log("session " + reply.Session + " open: " + reply.Width + "x" + reply.Height + " " + reply.Format);
            stream.OpenFailed += error => Debug.LogError("[gf] could not open the session: " + error.Message, this);
            stream.Applied += OnApplied;
            stream.Stats += stats => StatsReceived?.Invoke(stats);
            stream.ServerErrorReceived += error => Debug.LogWarning("[gf] server error: " + error, this);
            stream.ConnectionChanged += OnConnectionChanged;
            stream.Open();
        }

        /// <summary>Close the session and the connection (joins the receive thread, at most 1 s).</summary>
        public void Disconnect()
        {
            if (connection == null) return;
            stream.Dispose();
            connection.Dispose();
            stream = null;
            connection = null;
        }

        void Update()
        {
            if (stream == null) return;
            stream.Update();
            if (!stream.TryTakeFrame(out Frame frame)) return;
            try
            {
                Upload(frame);
            }
            finally
            {
                stream.ReturnFrame(frame);
            }
        }

        void OnDestroy()
        {
            if (texture != null) Destroy(texture);
        }

        // ------------------------------------------------------------------------------------------ requests
        /// <summary>Change the world at the next chunk boundary. Failures are logged; await the task to handle them.</summary>
        public Task<Reply> SendPrompt(string text, PromptSource source = PromptSource.Player, bool sceneCut = false)
            => stream == null ? NotConnected() : Logged(stream.SendPrompt(text, source, sceneCut), "prompt '" + text + "'");

        /// <summary>A new place at the next chunk boundary, same prompt.</summary>
        public Task<Reply> SceneCut() => stream == null ? NotConnected() : Logged(stream.SceneCut(), "scene cut");

        /// <summary>Continue the world from an encoded image (JPEG or PNG bytes).</summary>
        public Task<Reply> SeedImage(byte[] jpegOrPng)
            => stream == null ? NotConnected() : Logged(stream.SeedImage(jpegOrPng), "seed image");

        /// <summary>
        /// Render <paramref name="camera"/> into a RenderTexture at the world's frame size, encode it as JPEG and send it
        /// as seed_image: the generated world continues from the game's own view. Main thread only.
        /// </summary>
        public Task<Reply> SeedFromCamera(Camera camera)
        {
            if (camera == null) throw new ArgumentNullException(nameof(camera));
            HelloReply hello = connection?.Hello;
            int width = hello != null ? hello.FrameWidth : FallbackSeedSide;
            int height = hello != null ? hello.FrameHeight : FallbackSeedSide;
            RenderTexture target = RenderTexture.GetTemporary(width, height, 24);
            RenderTexture previousTarget = camera.targetTexture;
            RenderTexture previousActive = RenderTexture.active;
            var capture = new Texture2D(width, height, TextureFormat.RGB24, false);
            try
            {
                camera.targetTexture = target;
                camera.Render();
                RenderTexture.active = target;
                capture.ReadPixels(new Rect(0, 0, width, height), 0, 0, false);
                capture.Apply(false);
                return SeedImage(capture.EncodeToJPG(jpegQuality));
            }
            finally
            {
                camera.targetTexture = previousTarget;
                RenderTexture.active = previousActive;
                RenderTexture.ReleaseTemporary(target);
                Destroy(capture);
            }
        }

        // ------------------------------------------------------------------------------------------ frames
        /// <summary>Put a frame into the texture. raw_rgb arrives top row first; Unity textures start at the bottom.</summary>
        void Upload(Frame frame)
        {
            FrameHeader header = frame.Header;
            EnsureTexture(header.Width, header.Height);
            if (header.Format == FrameFormat.RawRgb)
            {
                if (bottomUpRows == null || bottomUpRows.Length != frame.Payload.Length)
                {
                    bottomUpRows = new byte[frame.Payload.Length];
                }
                RawRgb.FlipRows(frame.Payload, bottomUpRows, header.Width, header.Height);
                texture.LoadRawTextureData(bottomUpRows);
                texture.Apply(false);
            }
            else if (!texture.LoadImage(frame.Payload)) // decodes the JPEG, right way up
            {
                Debug.LogWarning("[gf] frame " + header.Frame + " is not a decodable JPEG", this);
                return;
            }
            CurrentFrame = header;
        }

        void EnsureTexture(int width, int height)
        {
            if (texture != null && texture.width == width && texture.height == height) return;
            if (texture != null) Destroy(texture);
            texture = new Texture2D(width, height, TextureFormat.RGB24, false)
            {
                name = "gf world",
                filterMode = filterMode,
                wrapMode = TextureWrapMode.Clamp,
            };
            textureCreated.Invoke(texture);
        }

        // ------------------------------------------------------------------------------------------ events
        void OnApplied(AppliedEvent applied)
        {
            Log(applied.Kind + " (seq " + applied.Seq + ") applied at chunk " + applied.Chunk);
            Applied?.Invoke(applied);
        }

        void OnConnectionChanged(ConnectionEvent change)
        {
            if (change.Kind == ConnectionEventKind.Failed || change.Kind == ConnectionEventKind.BadServerMessage)
            {
                Debug.LogWarning("[gf] " + change, this);
            }
            else
            {
                Log(change.ToString());
            }
            ConnectionChanged?.Invoke(change);
        }

        void Log(string message)
        {
            if (logEvents) Debug.Log("[gf] " + message, this);
        }

        /// <summary>Log a failed request (Debug.Log* may be called from any thread).</summary>
        Task<Reply> Logged(Task<Reply> request, string what)
        {
            request.ContinueWith(t => Debug.LogWarning("[gf] " + what + " failed: " + t.Exception.GetBaseException().Message),
                TaskContinuationOptions.OnlyOnFaulted);
            return request;
        }

        Task<Reply> NotConnected()
        {
            var failed = new TaskCompletionSource<Reply>();
            failed.SetException(new InvalidOperationException("the WorldStreamClient on '" + name +
                "' is not connected; enable it or call Connect() first"));
            Debug.LogWarning("[gf] not connected: enable the WorldStreamClient or call Connect()", this);
            return failed.Task;
        }
    }
}
