using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using BtfBindings.Compatibility;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Compatibility
{
    /// <summary>
    /// The one classification rule (contract (b)) on the fixture kernels, each expected verdict and place derived from
    /// bpftool's JSON dump of the build-time and target BTF (libbpf's parser), not from our resolver.
    /// </summary>
    public class ClassificationTests
    {
        private const string Old = "x86_64-5.10", New = "x86_64-6.12";
        private readonly ITestOutputHelper _out;
        public ClassificationTests(ITestOutputHelper output) { _out = output; }

        private static CompatResult Classify(string build, string target, string use)
        {
            var u = CompatUse.TryParse(use, out var error) ?? throw new ArgumentException(error);
            return CompatibilityRule.Classify(new TargetKernel(Fixtures.Kernel(target), target), u, Fixtures.Kernel(build));
        }

        private static BpftoolTypes Dump(string kernel) => Bpftool.Types(Fixtures.Path(kernel));

        // (member, bit offset) of a composite, anonymous members flattened as C names them.
        private static Dictionary<string, (BpftoolMember m, long bits)> Members(BpftoolTypes d, BpftoolType t, long baseBits = 0, Dictionary<string, (BpftoolMember, long)>? into = null)
        {
            into ??= new Dictionary<string, (BpftoolMember, long)>();
            foreach (var m in t.Members)
            {
                if (m.Name.Length == 0)
                {
                    var inner = d[d.Resolve(m.TypeId)];
                    if (inner.IsComposite) Members(d, inner, baseBits + m.BitsOffset, into);
                    continue;
                }
                into.TryAdd(m.Name, (m, baseBits + m.BitsOffset));
            }
            return into!;
        }

        [Fact]
        public void Field_renamed_in_newer_kernel_is_missing()
        {
            Assert.Contains("state", Members(Dump(Old), Dump(Old).Composite("task_struct")).Keys);
            Assert.DoesNotContain("state", Members(Dump(New), Dump(New).Composite("task_struct")).Keys);
            Assert.Contains("__state", Members(Dump(New), Dump(New).Composite("task_struct")).Keys);
            var r = Classify(Old, New, "task_struct.state");
            Assert.Equal(CompatVerdict.Missing, r.Verdict);
            Assert.Contains("state", r.Detail);
            Assert.Equal(CompatVerdict.Missing, Classify(New, Old, "task_struct.__state").Verdict);
        }

        [Fact]
        public void Moved_field_gives_the_targets_offset_from_bpftool()
        {
            var (_, oldBits) = Members(Dump(Old), Dump(Old).Composite("task_struct"))["pid"];
            var (_, newBits) = Members(Dump(New), Dump(New).Composite("task_struct"))["pid"];
            Assert.NotEqual(oldBits, newBits);
            var r = Classify(Old, New, "task_struct.pid");
            Assert.Equal(CompatVerdict.Moved, r.Verdict);
            Assert.StartsWith($"offset {newBits / 8}, size 4; build time: offset {oldBits / 8}, size 4", r.Detail);
            Assert.True(r.IsProblemFor(CompatAccess.Plain));
            Assert.False(r.IsProblemFor(CompatAccess.View));
            var same = Classify(New, New, "task_struct.pid");
            Assert.Equal(CompatVerdict.Ok, same.Verdict);
            Assert.Equal($"offset {newBits / 8}, size 4", same.Detail);
        }

        [Fact]
        public void Nested_path_offset_is_from_the_root_as_bpftool_sums_it()
        {
            var d = Dump(New);
            var (se, seBits) = Members(d, d.Composite("task_struct"))["se"];
            var (_, vrBits) = Members(d, d[d.Resolve(se.TypeId)])["vruntime"];
            var r = Classify(Old, New, "task_struct.se.vruntime");
            Assert.True(r.Verdict is CompatVerdict.Ok or CompatVerdict.Moved, r.ToString());
            Assert.StartsWith($"offset {(seBits + vrBits) / 8}, size 8", r.Detail);
        }

        [Fact]
        public void Anonymous_enum_bitfield_that_became_u8_is_incompatible()
        {
            // bpftool: 5.10's net_device.reg_state is an 8-bit bitfield of an anonymous ENUM, 6.12's is a u8 (INT).
            var o = Dump(Old); var n = Dump(New);
            var (om, _) = Members(o, o.Composite("net_device"))["reg_state"];
            var (nm, _) = Members(n, n.Composite("net_device"))["reg_state"];
            Assert.Equal("ENUM", o[o.Resolve(om.TypeId)].Kind);
            Assert.Equal(8, om.BitfieldSize);
            Assert.Equal("INT", n[n.Resolve(nm.TypeId)].Kind);
            var r = Classify(Old, New, "net_device.reg_state");
            Assert.Equal(CompatVerdict.Incompatible, r.Verdict);
            Assert.Contains("incompatible type", r.Detail);
        }

        [Fact]
        public void Enum_value_missing_on_the_older_kernel_and_moved_value()
        {
            var o = Dump(Old); var n = Dump(New);
            BpftoolType E(BpftoolTypes d, string name) => d.All.First(t => t.IsEnum && t.Name == name);
            Assert.Contains(E(n, "bpf_func_id").Values, v => v.Name == "BPF_FUNC_user_ringbuf_drain");
            Assert.DoesNotContain(E(o, "bpf_func_id").Values, v => v.Name == "BPF_FUNC_user_ringbuf_drain");
            var missing = Classify(New, Old, "enum bpf_func_id::BPF_FUNC_user_ringbuf_drain");
            Assert.Equal(CompatVerdict.Missing, missing.Verdict);
            Assert.Contains("BPF_FUNC_user_ringbuf_drain", missing.Detail);

            string oldDirty = E(o, "pageflags").Values.Single(v => v.Name == "PG_dirty").ValueText;
            string newDirty = E(n, "pageflags").Values.Single(v => v.Name == "PG_dirty").ValueText;
            Assert.NotEqual(oldDirty, newDirty);
            var moved = Classify(Old, New, "pageflags::PG_dirty");
            Assert.Equal(CompatVerdict.Moved, moved.Verdict);
            Assert.Equal($"value {newDirty}; build time: {oldDirty}", moved.Detail);
            Assert.Equal(CompatVerdict.Ok, Classify(Old, Old, "enum pageflags::PG_dirty").Verdict);
        }

        [Fact]
        public void Types_missing_or_resized_per_bpftool()
        {
            Assert.DoesNotContain(Dump(Old).All, t => t.IsComposite && t.Name == "bpf_iter_num");
            Assert.Equal(CompatVerdict.Missing, Classify(New, Old, "struct bpf_iter_num").Verdict);
            long oldSize = Dump(Old).Composite("task_struct").Size, newSize = Dump(New).Composite("task_struct").Size;
            var r = Classify(Old, New, "struct task_struct");
            Assert.Equal(CompatVerdict.Moved, r.Verdict);
            Assert.Equal($"size {newSize}; build time: size {oldSize}", r.Detail);
            Assert.Equal(CompatVerdict.Ok, Classify(New, New, "task_struct").Verdict);
            Assert.Equal(CompatVerdict.Ok, Classify(Old, New, "enum pid_type").Verdict);
        }

        [Fact]
        public void Use_the_build_time_btf_lacks_is_an_argument_error_naming_it()
        {
            // CompatUseException (an ArgumentException): the user's use, said without an API parameter's name.
            var e = Assert.Throws<CompatUseException>(() => Classify(Old, New, "task_struct.no_such_field"));
            Assert.Contains("no_such_field", e.Message);
            Assert.DoesNotContain("(Parameter", e.Message);
            e = Assert.Throws<CompatUseException>(() => Classify(Old, New, "enum pageflags::PG_nope"));
            Assert.Contains("PG_nope", e.Message);
            e = Assert.Throws<CompatUseException>(() => Classify(Old, New, "struct no_such_type"));
            Assert.Contains("no_such_type", e.Message);
            Assert.Null(CompatUse.TryParse("task_struct..pid", out var err));
            Assert.Contains("task_struct..pid", err);
        }

        /// <summary>
        /// Every named scalar (int, enum, pointer) member of task_struct, sk_buff and net_device in 5.10, against 6.12:
        /// the verdict libbpf's field rule gives from bpftool's dumps (absent: missing; kind changed: incompatible;
        /// resized signed/enum: incompatible; else moved when the bytes differ) and the target offset.
        /// </summary>
        [Theory]
        [InlineData(Old, New)]
        [InlineData(New, Old)]
        public void Every_scalar_member_agrees_with_bpftool(string build, string target)
        {
            var b = Dump(build); var t = Dump(target);
            var counts = new Dictionary<CompatVerdict, int>();
            foreach (var type in new[] { "task_struct", "sk_buff", "net_device" })
            {
                var tm = Members(t, t.Composite(type));
                foreach (var (name, (m, bits)) in Members(b, b.Composite(type)))
                {
                    var bt = b[b.Resolve(m.TypeId)];
                    if (bt.Kind is not ("INT" or "ENUM" or "ENUM64" or "PTR")) continue;
                    CompatVerdict expected;
                    long? offset = null;
                    if (!tm.TryGetValue(name, out var there)) expected = CompatVerdict.Missing;
                    else
                    {
                        var tt = t[t.Resolve(there.m.TypeId)];
                        bool enumB = bt.IsEnum, enumT = tt.IsEnum;
                        if (bt.Kind == "PTR" != (tt.Kind == "PTR") || enumB != enumT || (enumB && bt.Name.Length > 0 && tt.Name.Length > 0 && bt.Name != tt.Name)) expected = CompatVerdict.Incompatible;
                        else
                        {
                            long bs = bt.Kind == "PTR" ? 8 : bt.Size, ts = tt.Kind == "PTR" ? 8 : tt.Size;
                            bool bf = m.BitfieldSize > 0 || there.m.BitfieldSize > 0;
                            bool unsignedInts = bt.Kind == "INT" && tt.Kind == "INT" && bt.Encoding != "SIGNED" && tt.Encoding != "SIGNED";
                            if (!bf && bs != ts && !(unsignedInts || bt.Kind == "PTR")) expected = CompatVerdict.Incompatible;
                            else if (bf) { expected = m.BitfieldSize == there.m.BitfieldSize && bits == there.bits ? CompatVerdict.Ok : CompatVerdict.Moved; }
                            else { expected = bs == ts && bits == there.bits ? CompatVerdict.Ok : CompatVerdict.Moved; offset = there.bits / 8; }
                        }
                    }
                    var r = Classify(build, target, type + "." + name);
                    Assert.True(expected == r.Verdict, $"{type}.{name}: bpftool says {expected}, rule says {r}");
                    if (offset is long off) Assert.StartsWith("offset " + off.ToString(CultureInfo.InvariantCulture) + ",", r.Detail);
                    counts[expected] = counts.GetValueOrDefault(expected) + 1;
                }
            }
            _out.WriteLine(string.Join(", ", counts.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}")));
            Assert.True(counts.GetValueOrDefault(CompatVerdict.Missing) > 0 && counts.GetValueOrDefault(CompatVerdict.Moved) > 0, "the pair must exercise missing and moved");
        }
    }
}
