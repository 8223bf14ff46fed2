using System;
using System.IO;
using System.Runtime.CompilerServices;
using Xunit;

namespace BtfBindings.Tests.Generator
{
    /// <summary>
    /// Approved-file snapshots: the expected text lives in the repository next to the tests. With
    /// BTFBINDINGS_APPROVE=1 a run rewrites the approved files instead of comparing (then review the git diff).
    /// </summary>
    public static class Snapshot
    {
        /// <summary>The text of approved file <paramref name="name"/>.</summary>
        public static string Read(string name, [CallerFilePath] string callerFile = "")
            => File.ReadAllText(Path.Combine(Path.GetDirectoryName(callerFile)!, "Snapshots", name)).Replace("\r\n", "\n");

        public static void Verify(string text, string name, [CallerFilePath] string callerFile = "")
        {
            var dir = Path.Combine(Path.GetDirectoryName(callerFile)!, "Snapshots");
            var file = Path.Combine(dir, name);
            text = text.Replace("\r\n", "\n");
            if (Environment.GetEnvironmentVariable("BTFBINDINGS_APPROVE") == "1")
            {
                Directory.CreateDirectory(dir);
                File.WriteAllText(file, text);
                return;
            }
            Assert.True(File.Exists(file), $"no approved snapshot {file}; run the tests with BTFBINDINGS_APPROVE=1 and review it");
            var expected = File.ReadAllText(file).Replace("\r\n", "\n");
            if (expected != text)
            {
                var received = file + ".received";
                File.WriteAllText(received, text);
                int i = 0;
                while (i < expected.Length && i < text.Length && expected[i] == text[i]) i++;
                int line = expected.Substring(0, i).Split('\n').Length;
                Assert.Fail($"snapshot {name} differs at line {line}; received output written to {received}");
            }
        }
    }
}
