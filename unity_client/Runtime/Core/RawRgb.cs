using System;
using Gf.Client.Core.Protocol;

namespace Gf.Client.Core
{
    /// <summary>Pixel helpers for raw_rgb payloads (3 bytes per pixel, top row first).</summary>
    public static class RawRgb
    {
        /// <summary>
        /// Copy <paramref name="source"/> into <paramref name="destination"/> with the rows in reverse order: the
        /// wire sends the top row first, while Unity's Texture2D.LoadRawTextureData expects the bottom row first.
        /// </summary>
        public static void FlipRows(byte[] source, byte[] destination, int width, int height)
        {
            int rowBytes = width * ProtocolConstants.RawRgbBytesPerPixel;
            long total = (long)rowBytes * height;
            if (width < 1 || height < 1 || source.Length != total || destination.Length != total)
            {
                throw new ArgumentException("a " + width + "x" + height + " raw_rgb frame has " + total +
                    " bytes; got source " + source.Length + " and destination " + destination.Length);
            }
            for (int row = 0; row < height; row++)
            {
                Buffer.BlockCopy(source, row * rowBytes, destination, (height - 1 - row) * rowBytes, rowBytes);
            }
        }
    }
}
