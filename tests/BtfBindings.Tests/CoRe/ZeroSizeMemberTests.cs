using System;
using System.Collections.Generic;
using System.Linq;
using BtfBindings.Layout;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// Members that take no space in one kernel (task_struct.kmap_ctrl without CONFIG_KMAP_LOCAL) exist in C, so they exist
    /// in C#: on the struct a ref at the member's offset, on the view a nested view that relocates to where the running
    /// kernel has content (kmap_ctrl holds idx and pteval[] on 32-bit kernels with HIGHMEM). Offsets checked against bpftool.
    /// </summary>
    public class ZeroSizeMemberTests
    {
        private const string Source = @"
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using BtfBindings;
namespace GenZero
{
    [BtfTypes(""task_struct"")]
    public static partial class K { }

    public static class Probe
    {
        // Byte distance from the struct to the zero-size member's ref.
        public static long StructOffset()
        {
            var t = new K.task_struct();
            return (long)Unsafe.ByteOffset(ref Unsafe.As<K.task_struct, byte>(ref t), ref Unsafe.As<K.kmap_ctrl, byte>(ref t.kmap_ctrl));
        }

        // Where the view's nested kmap_ctrl lies in the target's bytes, and how many bytes it has there.
        public static string ViewPlacement(byte[] d, TargetKernel k)
        {
            var t = new K.task_struct.View(d, k);
            if (!t.Has_kmap_ctrl) return ""missing"";
            var m = t.kmap_ctrl.Data;
            long at = m.Length == 0 ? -1 : (long)Unsafe.ByteOffset(ref d[0], ref m[0]);
            return $""{at} {m.Length}"";
        }
    }
}";

        [Fact]
        public void Every_member_of_task_struct_exists_in_CSharp_including_empty_ones()
        {
            var btf = CoreFixtures.Kernel("x86_64-6.12");
            var plan = LayoutPlanner.Plan(btf, new[] { "task_struct" }, null, out _);
            var task = plan.Types.Single(t => t.Name == "task_struct");
            var zero = task.Fields.Where(f => f.IsZeroSized && !f.IsFlexibleArray).Select(f => f.Name).ToList();
            Assert.Contains("kmap_ctrl", zero);

            var asm = GeneratedAssemblies.Build(Fixtures.Path("x86_64-6.12"), Source);
            var type = asm.GetType("GenZero.K+task_struct", true)!;
            var view = asm.GetType("GenZero.K+task_struct+View", true)!;
            foreach (var f in task.Fields)
            {
                Assert.True(type.GetMember(f.Name).Length > 0, "struct lacks " + f.Name);
                Assert.True(view.GetMember(f.Name).Length > 0, "view lacks " + f.Name);
            }

            var oracle = BpftoolOracle.For(Fixtures.Path("x86_64-6.12"), false);
            var kmap = oracle.Find(oracle.Candidates("task_struct", "STRUCT").Single(), "kmap_ctrl")!;
            Assert.Equal((long)(kmap.Value.bitOffset / 8), (long)GeneratedAssemblies.Call(asm, "GenZero.Probe", "StructOffset")!);
        }

        public static IEnumerable<object[]> Targets() => Tier.Rows(new[] { "x86_64-6.12", "i686-6.1", "armhf-6.1" }.Select(k => new object[] { k }));

        [Theory]
        [MemberData(nameof(Targets))]
        public void Empty_member_of_the_build_kernel_relocates_to_where_the_target_has_it(string kernel)
        {
            var asm = GeneratedAssemblies.Build(Fixtures.Path("x86_64-6.12"), Source);
            var oracle = BpftoolOracle.For(Fixtures.Path(kernel), CoreFixtures.IsBigEndian(kernel));
            var task = oracle.Candidates("task_struct", "STRUCT").Single();
            var kmap = oracle.Find(task, "kmap_ctrl");
            var target = new TargetKernel(CoreFixtures.Kernel(kernel), kernel);
            var data = new byte[oracle.SizeOf(task.Id)];
            var got = (string)GeneratedAssemblies.Call(asm, "GenZero.Probe", "ViewPlacement", data, target)!;
            if (kmap == null) { Assert.Equal("missing", got); return; }
            long size = oracle.SizeOf(kmap.Value.member.TypeId);
            Assert.Equal(size == 0 ? "-1 0" : $"{kmap.Value.bitOffset / 8} {size}", got);
            if (kernel != "x86_64-6.12") Assert.True(size > 0, $"{kernel}: kmap_ctrl was expected to have content (CONFIG_KMAP_LOCAL)");
        }
    }
}
