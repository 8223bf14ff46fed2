using System;
using System.IO;

namespace BtfBindings.Tests.Support
{
    /// <summary>
    /// A fresh directory under the temp folder (<c>btfbindings-TAG-GUID</c>), deleted with everything in it on dispose
    /// (<c>BTFBINDINGS_KEEP_TEMP=1</c> keeps it, to look at after a failure). The tests' one temp-dir helper.
    /// </summary>
    public sealed class TempDir : IDisposable
    {
        public TempDir(string tag = "test")
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "btfbindings-" + tag + "-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        /// <summary>The path of <paramref name="name"/> inside the directory.</summary>
        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            if (Environment.GetEnvironmentVariable("BTFBINDINGS_KEEP_TEMP") == "1") return;
            try { Directory.Delete(Path, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
