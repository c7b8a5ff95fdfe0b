using Gf.Client.Unity;
using UnityEngine;
using UnityEngine.UI;

namespace Gf.Client.Samples
{
    /// <summary>Shows the client's world texture on a RawImage (and keeps its aspect ratio, if a fitter is present).</summary>
    [RequireComponent(typeof(RawImage))]
    public sealed class WorldScreen : MonoBehaviour
    {
        [SerializeField] WorldStreamClient client;

        RawImage image;
        AspectRatioFitter fitter;

        void Awake()
        {
            image = GetComponent<RawImage>();
            fitter = GetComponent<AspectRatioFitter>();
        }

        void Update()
        {
            Texture2D world = client != null ? client.Texture : null;
            if (world == null || image.texture == world) return;
            image.texture = world; // a new texture appears on the first frame and when the frame size changes
            if (fitter != null) fitter.aspectRatio = (float)world.width / world.height;
        }
    }
}
