using System.CommandLine;
using BtfBindings.Dump;

namespace BtfBindings.Cli.Commands
{
    /// <summary><c>btfgen dump FILE</c>: every type, exactly as bpftool prints it.</summary>
    internal static class DumpCommand
    {
        public static Command Create(CliContext ctx)
        {
            var file = new Argument<string>("FILE") { Description = "BTF file: raw, ELF (.BTF section), gzip/xz, or BTFHub .btf.tar.xz." };
            BtfGenCommand.RejectOptionLikeTokens(file, typeNames: false);
            var baseOpt = BtfGenCommand.BaseOption();
            var format = new Option<string>("--format", "-f") { Description = "raw: bpftool's text form; json: bpftool -j's JSON.", DefaultValueFactory = _ => "raw" };
            format.AcceptOnlyFromAmong("raw", "json");
            var cmd = new Command("dump", "Print every type of a BTF file exactly as 'bpftool btf dump file FILE format raw' does.") { file, baseOpt, format };
            cmd.SetAction(pr => BtfGenCommand.Guard(ctx, () =>
            {
                var btf = BtfGenCommand.LoadWithBase(pr.GetValue(file)!, pr.GetValue(baseOpt));
                ctx.Out.Flush();
                if (pr.GetValue(format) == "json") BtfRawDump.WriteJson(btf, ctx.StdoutStream);
                else BtfRawDump.WriteText(btf, ctx.StdoutStream);
                ctx.StdoutStream.Flush();
                return 0;
            }));
            return cmd;
        }
    }
}
