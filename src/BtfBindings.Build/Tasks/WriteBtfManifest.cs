using System;
using System.IO;
using System.Text;
using BtfBindings.Build.Hashing;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace BtfBindings.Build
{
    /// <summary>
    /// Writes a manifest the generators read (BtfBindings.btfrefs; format in the generator's BtfFileManifest.cs): the given
    /// lines (BtfFile, Base, BPF object), then the target lines HashBtfTargets wrote, copied from its file as they are.
    /// Written only when the content changes (a new time would make the compile out of date), which is checked by hash
    /// through a small buffer: 40 targets' lines as MSBuild items and WriteLinesToFile's comparison were ~0.1 MB of
    /// garbage per build in MSBuild's process.
    /// </summary>
    public sealed class WriteBtfManifest : Task
    {
        /// <summary>The lines before the target lines.</summary>
        public ITaskItem[] Lines { get; set; } = Array.Empty<ITaskItem>();
        /// <summary>HashBtfTargets' output file, or empty when the project has no BtfTarget.</summary>
        public string TargetLines { get; set; } = "";
        /// <summary>The manifest.</summary>
        [Required] public string File { get; set; } = "";

        public override bool Execute()
        {
            bool targets = TargetLines.Length > 0 && System.IO.File.Exists(TargetLines);
            // The content's hash as the file would hold it (UTF-8, '\n' after each line), and the file's.
            var expected = new Fnv64();
            long length = 0;
            var bytes = new byte[256];
            foreach (var item in Lines)
            {
                string line = item.ItemSpec;
                int n = Encoding.UTF8.GetMaxByteCount(line.Length) + 1;
                if (n > bytes.Length) bytes = new byte[n];
                n = Encoding.UTF8.GetBytes(line, 0, line.Length, bytes, 0);
                bytes[n++] = (byte)'\n';
                for (int i = 0; i < n; i++) expected.Add(bytes[i]);
                length += n;
            }
            if (targets && !AddBytes(expected, TargetLines, ref length)) targets = false;
            var existing = new Fnv64();
            long existingLength = 0;
            if (System.IO.File.Exists(File) && AddBytes(existing, File, ref existingLength) && existingLength == length && existing.Value == expected.Value)
                return true;

            var text = new StringBuilder();
            foreach (var item in Lines) text.Append(item.ItemSpec).Append('\n');
            if (targets) text.Append(System.IO.File.ReadAllText(TargetLines));
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(File))!);
            System.IO.File.WriteAllText(File, text.ToString(), new UTF8Encoding(false));
            return true;
        }

        private static bool AddBytes(Fnv64 hash, string path, ref long length)
        {
            var info = new FileInfo(path);
            if (!info.Exists) return false;
            length += info.Length;
            return hash.AddBytes(path);
        }
    }
}
