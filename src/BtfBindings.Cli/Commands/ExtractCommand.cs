using System;
using System.CommandLine;
using System.IO;
using System.Text.Json;
using BtfBindings.Containers;

namespace BtfBindings.Cli.Commands
{
    /// <summary>
    /// <c>btfgen extract INPUT -o OUT.btf</c>: the raw BTF found in any input — raw BTF, ELF (vmlinux, .ko), gzip / xz /
    /// LZ4, tar (BTFHub), kernel modules (.ko, .ko.xz) and compressed kernel boot images (see <see cref="KernelImage"/>).
    /// </summary>
    internal static class ExtractCommand
    {
        public static Command Create(CliContext ctx)
        {
            var input = new Argument<string>("INPUT") { Description = "Raw BTF, vmlinux/.ko ELF, .ko.xz, .btf.tar.xz, gzip/xz file, or a kernel image (bzImage/vmlinuz, arm64 Image/Image.gz, EFI zboot, raw image)." };
            BtfGenCommand.RejectOptionLikeTokens(input, typeNames: false);
            var output = new Option<string>("--output", "-o") { Description = "Where to write the raw BTF ('-' for standard output).", HelpName = "FILE", Required = true };
            var baseOpt = BtfGenCommand.BaseOption();
            var json = BtfGenCommand.JsonOption("what was found");
            var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress messages on standard error." };
            var cmd = new Command("extract", "Write the raw BTF found in any input: BTF files, ELF files, modules, archives and compressed kernel images.")
            { input, output, baseOpt, json, quiet };
            cmd.SetAction(pr => BtfGenCommand.Guard(ctx, () =>
            {
                ctx.Quiet = pr.GetValue(quiet);
                string path = pr.GetValue(input)!;
                string outPath = pr.GetValue(output)!;
                Btf? baseBtf = pr.GetValue(baseOpt) is string b ? BtfGenCommand.LoadAny(b, null, ctx) : null;
                byte[] data = BtfContainer.ReadInputFile(path);
                if (data.Length > 16 << 20) ctx.Progress($"reading {path} ({data.Length / 1048576} MB)");
                var found = KernelImage.FindBtf(data, path, baseBtf, ctx.Progress);
                int types = -1;
                if (found.Validated)
                {
                    var parsed = Btf.Parse((byte[])found.Data.Clone(), path, baseBtf);
                    types = parsed.TypeCount - parsed.FirstTypeId;
                }
                else ctx.Warning(found.ValidationNote ?? "not validated");
                if (outPath == "-")
                {
                    ctx.Out.Flush();
                    ctx.StdoutStream.Write(found.Data, 0, found.Data.Length);
                    ctx.StdoutStream.Flush();
                }
                else File.WriteAllBytes(outPath, found.Data);
                if (pr.GetValue(json) && outPath != "-")
                {
                    ctx.Out.Flush();
                    using var w = new Utf8JsonWriter(ctx.StdoutStream, new JsonWriterOptions { Indented = true });
                    w.WriteStartObject();
                    w.WriteString("input", path);
                    w.WriteString("output", outPath);
                    w.WriteString("found", found.Description);
                    w.WriteNumber("bytes", found.Data.Length);
                    w.WriteString("endianness", found.IsBigEndian ? "big" : "little");
                    w.WriteBoolean("validated", found.Validated);
                    if (types >= 0) w.WriteNumber("types", types); else w.WriteNull("types");
                    w.WriteEndObject();
                    w.Flush();
                    ctx.StdoutStream.WriteByte((byte)'\n');
                    ctx.StdoutStream.Flush();
                }
                else if (outPath != "-")
                {
                    ctx.Progress($"{found.Description}: wrote {found.Data.Length} bytes{(types >= 0 ? $" ({types} types)" : "")} to {outPath}");
                }
                return 0;
            }));
            return cmd;
        }
    }
}
