using System;
using System.IO;
using System.Text;
using BtfBindings.CHeader;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace BtfBindings.Build
{
    /// <summary>
    /// Writes the C header of a BTF file (<see cref="CHeaderWriter"/>), the <c>vmlinux.h</c> a <c>&lt;BpfProgram&gt;</c> is
    /// compiled against. The file is only rewritten when its text changes, so clang's incremental inputs stay put.
    /// </summary>
    public sealed class WriteCHeader : Task
    {
        /// <summary>The BTF (raw, ELF with .BTF, .gz, .xz, BTFHub archive).</summary>
        [Required] public string BtfFile { get; set; } = "";
        /// <summary>Its base, for split BTF.</summary>
        public string? BaseFile { get; set; }
        /// <summary>Where to write the header.</summary>
        [Required] public string OutputFile { get; set; } = "";

        public override bool Execute()
        {
            try
            {
                var baseBtf = string.IsNullOrEmpty(BaseFile) ? null : BtfContainer.Load(BaseFile!);
                var btf = BtfContainer.Load(BtfFile, baseBtf);
                string text = CHeaderWriter.Write(btf, null, out var warnings);
                foreach (var w in warnings) Log.LogWarning(null, "BTFB008", null, BtfFile, 0, 0, 0, 0, w);
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(OutputFile))!);
                if (!File.Exists(OutputFile) || File.ReadAllText(OutputFile) != text)
                    File.WriteAllText(OutputFile, text, new UTF8Encoding(false));
                return true;
            }
            catch (Exception e) when (e is BtfException || e is IOException || e is UnauthorizedAccessException)
            {
                Log.LogError(null, "BTFB013", null, BtfFile, 0, 0, 0, 0, "Cannot write vmlinux.h from BtfFile '{0}': {1}", BtfFile, e.Message);
                return false;
            }
        }
    }
}
