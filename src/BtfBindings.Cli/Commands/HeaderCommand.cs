using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using BtfBindings.CHeader;

namespace BtfBindings.Cli.Commands
{
    /// <summary><c>btfgen header FILE [-o vmlinux.h] [TYPES…]</c>: the C header of a BTF, like <c>bpftool btf dump file FILE format c</c>.</summary>
    internal static class HeaderCommand
    {
        public static Command Create(CliContext ctx)
        {
            var input = new Argument<string>("FILE") { Description = "BTF: raw, vmlinux/.ko ELF, .gz/.xz, BTFHub archive." };
            BtfGenCommand.RejectOptionLikeTokens(input, typeNames: false);
            var types = new Argument<string[]>("TYPES") { Description = "Only these structs, unions, enums and typedefs, with what they need (default: every type).", Arity = ArgumentArity.ZeroOrMore };
            BtfGenCommand.RejectOptionLikeTokens(types, typeNames: true);
            var output = new Option<string>("--output", "-o") { Description = "Where to write the header (default: standard output).", HelpName = "FILE" };
            var baseOpt = BtfGenCommand.BaseOption();
            var cmd = new Command("header", "Write the C header of a BTF (vmlinux.h for BPF programs), like 'bpftool btf dump file FILE format c'.")
            { input, types, output, baseOpt };
            cmd.SetAction(pr => BtfGenCommand.Guard(ctx, () =>
            {
                var btf = BtfGenCommand.LoadAny(pr.GetValue(input)!, pr.GetValue(baseOpt), ctx);
                var names = pr.GetValue(types) ?? Array.Empty<string>();
                string text = CHeaderWriter.Write(btf, names.Length == 0 ? null : names.ToList(), out var warnings);
                foreach (var w in warnings) ctx.Warning(w);
                string? outPath = pr.GetValue(output);
                if (outPath == null || outPath == "-") ctx.Out.Write(text);
                else File.WriteAllText(outPath, text);
                return 0;
            }));
            return cmd;
        }
    }
}
