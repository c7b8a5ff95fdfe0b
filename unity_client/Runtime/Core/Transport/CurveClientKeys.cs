using System;
using System.IO;
using System.Text.RegularExpressions;

namespace Gf.Client.Core.Transport
{
    /// <summary>
    /// CurveZMQ keys for a server started with <c>gf serve --curve-keys DIR</c> (PROTOCOL.md §9): the server's
    /// public key and this client's key pair, each 40 Z85 characters.
    /// </summary>
    public sealed class CurveClientKeys
    {
        const int Z85KeyLength = 40;
        static readonly Regex KeyLine = new Regex("^\\s*(public|secret)-key\\s*=\\s*\"([^\"]*)\"\\s*$", RegexOptions.Multiline);

        public string ServerPublicKey { get; }
        public string PublicKey { get; }
        public string SecretKey { get; }

        public CurveClientKeys(string serverPublicKey, string publicKey, string secretKey)
        {
            ServerPublicKey = CheckKey(serverPublicKey, nameof(serverPublicKey));
            PublicKey = CheckKey(publicKey, nameof(publicKey));
            SecretKey = CheckKey(secretKey, nameof(secretKey));
        }

        /// <summary>
        /// Read <c>DIR/server.key</c> and <c>DIR/NAME.key_secret</c>, as written by <c>gf keys --out DIR --clients NAME</c>
        /// (ZeroMQ's certificate format).
        /// </summary>
        public static CurveClientKeys FromFolder(string folder, string clientName = "client")
        {
            string serverFile = Path.Combine(folder, "server.key");
            string clientFile = Path.Combine(folder, clientName + ".key_secret");
            string serverPublic = ReadKey(serverFile, "public");
            return new CurveClientKeys(serverPublic, ReadKey(clientFile, "public"), ReadKey(clientFile, "secret"));
        }

        /// <summary>The <c>public-key</c> or <c>secret-key</c> of a ZeroMQ certificate's text.</summary>
        public static string ParseCertificate(string text, string kind, string origin = "certificate")
        {
            foreach (Match match in KeyLine.Matches(text))
            {
                if (match.Groups[1].Value == kind) return match.Groups[2].Value;
            }
            throw new FormatException(origin + " has no " + kind + "-key line; make the keys with `gf keys --out DIR`");
        }

        static string ReadKey(string file, string kind)
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException("CURVE key file " + file + " does not exist; create the keys with " +
                    "`gf keys --out DIR --clients NAME` and give this client DIR/server.key and DIR/NAME.key_secret", file);
            }
            return ParseCertificate(File.ReadAllText(file), kind, file);
        }

        static string CheckKey(string key, string name)
        {
            if (key == null || key.Length != Z85KeyLength)
            {
                throw new ArgumentException("a CURVE key is " + Z85KeyLength + " Z85 characters; " + name + " has " +
                    (key == null ? "none" : key.Length.ToString()), name);
            }
            return key;
        }
    }
}
