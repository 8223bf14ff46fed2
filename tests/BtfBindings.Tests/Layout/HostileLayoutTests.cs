using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;
using BtfBindings.Cli.Layout;
using BtfBindings.Layout;
using BtfBindings.Tests.Cli;
using BtfBindings.Tests.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using BtfBindings.Tests.Support;
using Xunit;
using static BtfBindings.Tests.Support.BtfSupport;

namespace BtfBindings.Tests.Layout
{
    /// <summary>Builds hostile BTF (a few changed bytes of a real kernel's are enough to make any of these).</summary>
    internal static class Hostile
    {
        /// <summary>A member (no bitfield).</summary>
        public static (string name, int type, uint bitOffset, int bitfieldSize) M(string name, int type, uint bitOffset = 0) => (name, type, bitOffset, 0);

        public static Btf Parse(Action<BtfBuilder> build, string name = "hostile.btf")
        {
            var b = new BtfBuilder();
            build(b);
            return Btf.Parse(b.ToArray(), name);
        }

        public static string Write(Action<BtfBuilder> build, string name)
        {
            var b = new BtfBuilder();
            build(b);
            var dir = Path.Combine(Path.GetTempPath(), "btfb-hostile-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, name);
            File.WriteAllBytes(path, b.ToArray());
            return path;
        }

        /// <summary>
        /// Runs <paramref name="action"/> on a thread with a 512 KiB stack (the compiler's threads have about 1 MiB): a walk
        /// whose depth the input controls would overflow it and kill the test host, so a pass proves the walk bounded.
        /// </summary>
        public static void OnSmallStack(Action action)
        {
            Exception? error = null;
            var t = new Thread(() => { try { action(); } catch (Exception e) { error = e; } }, 512 * 1024);
            t.Start();
            t.Join();
            if (error != null) ExceptionDispatchInfo.Capture(error).Throw();
        }

        public static BtfException PlanThrows(Btf btf, string name, params string[] parts)
        {
            BtfException? e = null;
            OnSmallStack(() => e = Throws(() => LayoutPlanner.Plan(btf, new[] { name }, null, out _), parts));
            return e!;
        }

        public static LayoutPlan Plan(Btf btf, params string[] names)
        {
            LayoutPlan? plan = null;
            List<UnknownTypeName>? unknown = null;
            OnSmallStack(() => plan = LayoutPlanner.Plan(btf, names, null, out unknown));
            Assert.Empty(unknown!);
            return plan!;
        }

        // ---- the inputs ------------------------------------------------------------------------------------

        /// <summary>1 int; 2 struct foo { anon a; int x; }; 3 anonymous struct/union holding itself (named member or flattened).</summary>
        public static Btf SelfContainingAnonymous(BtfKind kind, bool flattened) => Parse(b =>
        {
            b.AddInt("int", 4, BtfIntEncoding.Signed);                                              // 1
            b.AddComposite(BtfKind.Struct, "foo", 8, (flattened ? "" : "a", 3, 0, 0), ("x", 1, 32, 0)); // 2
            b.AddComposite(kind, "", 4, ("y", 1, 0, 0), (flattened ? "" : "self", 3, 0, 0));        // 3
        });

        /// <summary>struct foo (2) { foo_t x; } with foo_t = typedef (5) of volatile (4) of const (3) of struct foo.</summary>
        public static Btf CycleThroughTypedef() => Parse(b =>
        {
            b.AddInt("int", 4, BtfIntEncoding.Signed);                          // 1
            b.AddComposite(BtfKind.Struct, "foo", 8, ("x", 5, 0, 0));          // 2
            b.AddRef(BtfKind.Const, 2);                                         // 3
            b.AddRef(BtfKind.Volatile, 3);                                      // 4
            b.AddRef(BtfKind.Typedef, 4, "foo_t");                             // 5
        });

        /// <summary>struct foo (2) { struct foo x[4]; }.</summary>
        public static Btf CycleThroughArray() => Parse(b =>
        {
            b.AddInt("int", 4, BtfIntEncoding.Signed);                          // 1
            b.AddComposite(BtfKind.Struct, "foo", 16, ("x", 3, 0, 0));         // 2
            b.AddArray(2, 1, 4);                                                // 3
        });

        /// <summary>struct a (2) { struct b x; }; struct b (3) { struct a y; }.</summary>
        public static Btf MutualCycle() => Parse(b =>
        {
            b.AddInt("int", 4, BtfIntEncoding.Signed);                          // 1
            b.AddComposite(BtfKind.Struct, "a", 4, ("x", 3, 0, 0));            // 2
            b.AddComposite(BtfKind.Struct, "b", 4, ("y", 2, 0, 0));            // 3
        });

        /// <summary>struct s (2) { t0 x; } with t0 -> t1 -> ... -> t(n-1) -> int (or back to t0 when <paramref name="loop"/>).</summary>
        public static Btf TypedefChain(int n, bool loop) => Parse(b =>
        {
            b.AddInt("int", 4, BtfIntEncoding.Signed);                          // 1
            b.AddComposite(BtfKind.Struct, "s", 4, ("x", 3, 0, 0));            // 2
            for (int i = 0; i < n; i++)                                         // 3 .. n+2
                b.AddRef(BtfKind.Typedef, i == n - 1 ? (loop ? 3 : 1) : 4 + i, "t" + i);
        });

        /// <summary>struct top (2) nesting <paramref name="levels"/> anonymous structs (ids 3..), as named members or flattened.</summary>
        public static Btf DeepNesting(int levels, bool flattened) => Parse(b =>
        {
            b.AddInt("int", 4, BtfIntEncoding.Signed);                                          // 1
            b.AddComposite(BtfKind.Struct, "top", 4, (flattened ? "" : "m", 3, 0, 0));         // 2
            for (int k = 0; k < levels; k++)                                                    // 3 ..
                b.AddComposite(BtfKind.Struct, "", 4, k == levels - 1 ? Hostile.M("leaf", 1) : Hostile.M(flattened ? "" : "m" + k, 4 + k));
        });

        /// <summary>
        /// union dag (2) holding two flattened copies of level 0, which holds two of level 1, …: no cycle, but 2^levels
        /// members once flattened.
        /// </summary>
        public static Btf ExponentialAnonymous(int levels) => Parse(b =>
        {
            b.AddInt("int", 4, BtfIntEncoding.Signed);                                          // 1
            b.AddComposite(BtfKind.Union, "dag", 4, ("", 3, 0, 0), ("", 3, 0, 0));              // 2
            for (int k = 0; k < levels; k++)                                                    // 3 ..
                b.AddComposite(BtfKind.Union, "", 4, k == levels - 1 ? Hostile.M("leaf", 1) : Hostile.M("", 4 + k), k == levels - 1 ? Hostile.M("leaf2", 1) : Hostile.M("", 4 + k));
        });

        /// <summary>
        /// 1 long; 2 struct big (16 bytes) { long data[4294967295]; } (34,359,738,360 bytes); 3 the array; 4 int;
        /// 5 struct outer { struct big b; int x; }.
        /// </summary>
        public static Btf HugeArray() => Parse(b =>
        {
            b.AddInt("long", 8, BtfIntEncoding.Signed);                                         // 1
            b.AddComposite(BtfKind.Struct, "big", 16, ("data", 3, 0, 0));                       // 2
            b.AddArray(1, 4, uint.MaxValue);                                                    // 3
            b.AddInt("int", 4, BtfIntEncoding.Signed);                                          // 4
            b.AddComposite(BtfKind.Struct, "outer", 20, ("b", 2, 0, 0), ("x", 4, 128, 0));      // 5
        });
    }

    /// <summary>
    /// Issue 14 items 1, 3 and 4: hostile BTF never overflows the stack or hangs (the walks run on a small stack here, so a
    /// pass proves them bounded); a type that contains itself by value is a BtfException naming the cycle; sizes C#
    /// cannot represent become warnings and opaque types or raw bytes, never code that does not compile.
    /// </summary>
    public class HostileLayoutTests
    {
        // ---- item 1 and 4: by-value cycles --------------------------------------------------------------------

        [Theory]
        [InlineData(BtfKind.Struct, false)]
        [InlineData(BtfKind.Struct, true)]
        [InlineData(BtfKind.Union, false)]
        [InlineData(BtfKind.Union, true)]
        public void Anonymous_type_containing_itself_is_a_cycle_error(BtfKind kind, bool flattened)
        {
            var btf = Hostile.SelfContainingAnonymous(kind, flattened);
            string tag = kind == BtfKind.Union ? "union" : "struct";
            var e = Hostile.PlanThrows(btf, "foo", $"{tag} (anon) (id 3) contains itself by value", $"{tag} (anon) (id 3) -> {tag} (anon) (id 3)");
            Assert.Equal(3, e.TypeId);
            Assert.Equal("hostile.btf", e.SourceName);
            Hostile.OnSmallStack(() => Throws(() => LayoutPlanner.PlanAll(btf), "contains itself by value", "id 3"));
        }

        [Fact]
        public void Struct_containing_itself_through_typedef_const_volatile_is_a_cycle_error()
        {
            var btf = Hostile.CycleThroughTypedef();
            var e = Hostile.PlanThrows(btf, "foo", "struct foo (id 2) contains itself by value: struct foo (id 2) -> typedef foo_t (id 5) -> volatile (id 4) -> const (id 3) -> struct foo (id 2)");
            Assert.Equal(2, e.TypeId);
            // Requested by its typedef's name, too (item 4: this used to plan with BTFB008 warnings, then fail with CS0523).
            Hostile.PlanThrows(btf, "foo_t", "struct foo (id 2) contains itself by value");
        }

        [Fact]
        public void Struct_containing_itself_through_an_array_is_a_cycle_error()
        {
            var e = Hostile.PlanThrows(Hostile.CycleThroughArray(), "foo", "struct foo (id 2) contains itself by value: struct foo (id 2) -> array[4] (id 3) -> struct foo (id 2)");
            Assert.Equal(2, e.TypeId);
        }

        [Fact]
        public void Two_structs_containing_each_other_are_a_cycle_error()
        {
            var btf = Hostile.MutualCycle();
            Hostile.PlanThrows(btf, "a", "struct a (id 2) contains itself by value: struct a (id 2) -> struct b (id 3) -> struct a (id 2)");
            Hostile.PlanThrows(btf, "b", "struct b (id 3) contains itself by value: struct b (id 3) -> struct a (id 2) -> struct b (id 3)");
        }

        [Fact]
        public void Cycle_reached_only_through_a_pointer_is_not_planned()
        {
            // struct ok { struct a *p; }: a is an opaque stub, never laid out, so its cycle does not matter...
            var btf = Hostile.Parse(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);                          // 1
                b.AddComposite(BtfKind.Struct, "a", 4, ("x", 3, 0, 0));            // 2
                b.AddComposite(BtfKind.Struct, "b", 4, ("y", 2, 0, 0));            // 3
                b.AddRef(BtfKind.Ptr, 2);                                           // 4
                b.AddComposite(BtfKind.Struct, "ok", 8, ("p", 4, 0, 0));           // 5
                b.AddInt("long", 8, BtfIntEncoding.Signed);                         // 6
            });
            var plan = Hostile.Plan(btf, "ok");
            Assert.Equal(PlannedKind.Struct, plan.Types.Single(t => t.Name == "ok").Kind);
            Assert.Equal(PlannedKind.Opaque, plan.Types.Single(t => t.Name == "a").Kind);
            // ...until its definition is asked for.
            Hostile.OnSmallStack(() => Throws(() => LayoutPlanner.Plan(btf, new[] { "ok" }, new LayoutOptions { FollowPointers = true }, out _), "struct a (id 2) contains itself by value"));
        }

        [Fact]
        public void Typedef_chain_of_100k_is_a_clean_error()
        {
            var btf = Hostile.TypedefChain(100_000, loop: false);
            var sw = Stopwatch.StartNew();
            Hostile.PlanThrows(btf, "s", "over-long chain", "type [3]");
            Hostile.OnSmallStack(() =>
            {
                Throws(() => btf.ResolveSize(3), "chain deeper than 32");
                Throws(() => btf.AlignOf(3), "deeper than 64");
                Throws(() => btf.Skip(3), "over-long chain");
                Assert.Null(btf.FindValueCycle(2));
            });
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
        }

        [Fact]
        public void Typedef_loop_of_100k_names_the_cycle()
        {
            var btf = Hostile.TypedefChain(100_000, loop: true);
            var e = Hostile.PlanThrows(btf, "s", "typedef t0 (id 3) refers to itself: typedef t0 (id 3) -> typedef t1 (id 4)", "more)", "-> typedef t0 (id 3)");
            Assert.Equal(3, e.TypeId);
            Hostile.OnSmallStack(() =>
            {
                Throws(() => btf.ResolveSize(2 + 50_000), "deeper than 32", "type [50002]"); // too far round to name it cheaply
                Throws(() => btf.AlignOf(3), "deeper than 64", "type [3]");
                Throws(() => btf.Skip(3), "over-long chain", "type [3]");
            });
        }

        [Fact]
        public void Size_and_alignment_name_a_by_value_cycle()
        {
            Hostile.OnSmallStack(() =>
            {
                var btf = Hostile.CycleThroughTypedef();
                Throws(() => btf.AlignOf(2), "struct foo (id 2) contains itself by value");
                Throws(() => btf.CheckNoValueCycle(5), "struct foo (id 2) contains itself by value", "typedef foo_t (id 5)");
                Assert.Equal(new[] { 2, 5, 4, 3, 2 }, btf.FindValueCycle(2));
                var anon = Hostile.SelfContainingAnonymous(BtfKind.Union, flattened: true);
                Throws(() => anon.AlignOf(2), "union (anon) (id 3) contains itself by value");
                Assert.Equal(8, anon.ResolveSize(2)); // a struct's size is its record's: no walk
                Throws(() => Hostile.CycleThroughArray().AlignOf(3), "struct foo (id 2) contains itself by value");
            });
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void Anonymous_nesting_1000_deep_is_a_clean_error(bool flattened)
        {
            var btf = Hostile.DeepNesting(1000, flattened);
            var e = Hostile.PlanThrows(btf, "top", $"nested deeper than {LayoutPlanner.MaxNesting} levels");
            Assert.NotNull(e.TypeId);
            Hostile.OnSmallStack(() => Throws(() => LayoutPlanner.PlanAll(btf), "nested deeper than"));
            // Legal nesting a little less deep still plans.
            var plan = Hostile.Plan(Hostile.DeepNesting(20, flattened), "top");
            var top = plan.Types.Single(t => t.Name == "top");
            Assert.Equal(PlannedKind.Struct, top.Kind);
            if (flattened) Assert.Equal("leaf", Assert.Single(top.Fields).Name);
        }

        [Fact]
        public void Exponentially_many_flattened_members_make_the_type_opaque_quickly()
        {
            var btf = Hostile.ExponentialAnonymous(40);
            var sw = Stopwatch.StartNew();
            var plan = Hostile.Plan(btf, "dag");
            var dag = plan.Types.Single(t => t.Name == "dag");
            Assert.Equal(PlannedKind.Opaque, dag.Kind);
            Assert.Contains($"more than {LayoutLimits.MaxFields} members", dag.OpaqueReason);
            Assert.Contains(plan.Warnings, w => w.Contains("union dag (id 2) is emitted opaque"));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
        }

        [Fact]
        public void Function_prototype_pointing_at_itself_is_spelled_in_bounded_time()
        {
            // proto (3) int (*)(proto *a, proto *b): spelling it out naively doubles at every level.
            var btf = Hostile.Parse(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);                          // 1
                b.AddComposite(BtfKind.Struct, "s", 8, ("fp", 4, 0, 0));           // 2
                b.AddFuncProto(1, ("a", 4), ("b", 4));                              // 3
                b.AddRef(BtfKind.Ptr, 3);                                           // 4
                b.AddInt("long", 8, BtfIntEncoding.Signed);                         // 5
            });
            var sw = Stopwatch.StartNew();
            var plan = Hostile.Plan(btf, "s");
            var f = plan.Types.Single(t => t.Name == "s").Fields.Single();
            Assert.Contains("too", f.CType);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
        }

        // ---- item 3: sizes C# cannot represent ------------------------------------------------------------------

        [Fact]
        public void Huge_array_makes_its_type_opaque_and_the_containing_member_raw_bytes()
        {
            var plan = Hostile.Plan(Hostile.HugeArray(), "outer");
            var big = plan.Types.Single(t => t.Name == "big");
            Assert.Equal(PlannedKind.Opaque, big.Kind);
            Assert.StartsWith("C# cannot represent it: ", big.OpaqueReason);
            Assert.Contains("array of 4294967295 elements of 8 bytes, 34359738360 bytes in all", big.OpaqueReason);
            Assert.Empty(big.Fields);
            Assert.Contains(plan.Warnings, w => w.Contains("struct big (id 2) is emitted opaque") && w.Contains("34359738360"));

            var outer = plan.Types.Single(t => t.Name == "outer");
            Assert.Equal(PlannedKind.Struct, outer.Kind);
            var b = outer.Fields.Single(f => f.Name == "b");
            Assert.Equal(TypeShapeKind.Bytes, b.Type.Kind);
            Assert.Equal(16u, b.Type.ByteSize);
            Assert.Equal(128u, b.BitSize);
            Assert.Contains(plan.Warnings, w => w.Contains("struct outer.b") && w.Contains("16 raw bytes"));
            AssertRepresentable(plan);
        }

        [Fact]
        public void Union_member_over_2GiB_makes_the_union_opaque()
        {
            // union u (size 16) { char c[2147483664]; int x; } and union v (size 2147483664) { char c[2147483664]; }.
            var btf = Hostile.Parse(b =>
            {
                b.AddInt("char", 1, BtfIntEncoding.Signed);                                       // 1
                b.AddArray(1, 1, 2147483664u);                                                     // 2
                b.AddInt("int", 4, BtfIntEncoding.Signed);                                         // 3
                b.AddComposite(BtfKind.Union, "u", 16, ("c", 2, 0, 0), ("x", 3, 0, 0));            // 4
                b.AddComposite(BtfKind.Union, "v", 2147483664u, ("c", 2, 0, 0));                   // 5
            });
            var plan = Hostile.Plan(btf, "u", "v");
            var u = plan.Types.Single(t => t.Name == "u");
            Assert.Equal(PlannedKind.Opaque, u.Kind);
            Assert.Contains("2147483664 bytes in all", u.OpaqueReason);
            var v = plan.Types.Single(t => t.Name == "v");
            Assert.Equal(PlannedKind.Opaque, v.Kind);
            Assert.Contains("its size, 2147483664 bytes, is more than the 1048576 bytes", v.OpaqueReason);
            Assert.Equal(2147483664u, v.Size); // the real size, for the docs
            AssertRepresentable(plan);
        }

        [Fact]
        public void Struct_larger_than_int_MaxValue_is_opaque_and_so_is_what_holds_it()
        {
            var btf = Hostile.Parse(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);                                         // 1
                b.AddComposite(BtfKind.Struct, "huge", 0x80000010u, ("x", 1, 0, 0));              // 2
                b.AddComposite(BtfKind.Struct, "holder", 0x80000020u, ("h", 2, 0, 0));            // 3
                b.AddComposite(BtfKind.Struct, "liar", 8, ("h", 2, 0, 0));                         // 4 (member larger than itself)
            });
            var plan = Hostile.Plan(btf, "huge", "holder", "liar");
            foreach (var n in new[] { "huge", "holder", "liar" })
            {
                var t = plan.Types.Single(x => x.Name == n);
                Assert.Equal(PlannedKind.Opaque, t.Kind);
                Assert.Contains("2147483", t.OpaqueReason);
            }
            Assert.Contains("struct huge (id 2) of 2147483664 bytes", plan.Types.Single(x => x.Name == "liar").OpaqueReason);
            AssertRepresentable(plan);
        }

        [Fact]
        public void Offsets_summed_through_anonymous_members_do_not_wrap()
        {
            // struct s (16 bytes) { struct { int x @ bit 0x100; } @ bit 0xFFFFFF00; }: x is at bit 2^32, which wraps to 0 in 32 bits.
            var btf = Hostile.Parse(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);                                         // 1
                b.AddComposite(BtfKind.Struct, "s", 16, ("", 3, 0xFFFFFF00u, 0));                  // 2
                b.AddComposite(BtfKind.Struct, "", 4, ("x", 1, 0x100, 0));                         // 3
            });
            var plan = Hostile.Plan(btf, "s");
            var s = plan.Types.Single(t => t.Name == "s");
            Assert.Equal(PlannedKind.Opaque, s.Kind);
            Assert.Contains("at byte 536870880", s.OpaqueReason);
            AssertRepresentable(plan);
        }

        [Fact]
        public void Huge_count_of_zero_sized_elements_becomes_a_zero_sized_member()
        {
            var btf = Hostile.Parse(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);                                         // 1
                b.AddComposite(BtfKind.Struct, "empty", 0);                                        // 2
                b.AddArray(2, 1, uint.MaxValue);                                                   // 3
                b.AddComposite(BtfKind.Struct, "s", 4, ("e", 3, 0, 0), ("x", 1, 0, 0));            // 4
            });
            var plan = Hostile.Plan(btf, "s");
            var s = plan.Types.Single(t => t.Name == "s");
            Assert.Equal(PlannedKind.Struct, s.Kind);
            var e = s.Fields.Single(f => f.Name == "e");
            Assert.True(e.IsZeroSized);
            Assert.Equal(TypeShapeKind.Bytes, e.Type.Kind);
            Assert.Contains(plan.Warnings, w => w.Contains("struct s.e") && w.Contains("4294967295 zero-sized elements"));
            AssertRepresentable(plan);
        }

        [Fact]
        public void Largest_real_kernel_types_stay_within_the_limit()
        {
            var btf = Btf.Load(BtfBindings.Tests.Support.Fixtures.Path("x86_64-6.12"));
            var plan = LayoutPlanner.Plan(btf, new[] { "pglist_data", "task_struct" }, null, out _);
            var pg = plan.Types.Single(t => t.Name == "pglist_data");
            Assert.Equal(PlannedKind.Struct, pg.Kind);
            Assert.True(pg.Size < LayoutLimits.MaxTypeSize / 4);
            Assert.DoesNotContain(plan.Warnings, w => w.Contains("C# cannot represent"));
        }

        /// <summary>Everything the emitter reads fits C#: sizes and offsets in int, arrays within the limit.</summary>
        private static void AssertRepresentable(LayoutPlan plan)
        {
            void Check(PlannedType t)
            {
                if (t.Kind == PlannedKind.Opaque) { Assert.Empty(t.Fields); Assert.Empty(t.Nested); return; }
                if (t.Kind == PlannedKind.Enum) return;
                Assert.True(t.Size <= LayoutLimits.MaxTypeSize, $"{t.Name}: size {t.Size}");
                foreach (var f in t.Fields)
                {
                    Assert.True((ulong)f.BitOffset / 8 + f.Type.ByteSize <= LayoutLimits.MaxTypeSize, $"{t.Name}.{f.Name}");
                    for (var s = f.Type; s != null && s.Kind == TypeShapeKind.Array; s = s.Element)
                        Assert.True(s.Length <= LayoutLimits.MaxTypeSize && s.ByteSize <= LayoutLimits.MaxTypeSize, $"{t.Name}.{f.Name}: array of {s.Length}");
                }
                foreach (var n in t.Nested) { Assert.NotEqual(PlannedKind.Opaque, n.Kind); Check(n); }
            }
            foreach (var t in plan.Types) Check(t);
        }

        // ---- the CLI's walks: show's layout view, generate, minimize --------------------------------------------

        [Fact]
        public void Layout_view_of_an_unrepresentable_type_says_why_with_the_real_size()
        {
            var btf = Hostile.HugeArray();
            var plan = Hostile.Plan(btf, "outer");
            var builder = new LayoutViewBuilder(btf, plan);
            Throws(() => builder.Build(plan.Types.Single(t => t.Name == "big")), "struct big", "34359738360 bytes");
            var v = builder.Build(plan.Types.Single(t => t.Name == "outer"));
            Assert.Equal(16u, v.Members[0].ByteSize);
            Assert.Equal(20ul, v.SumBytes);
        }

        [Theory]
        [InlineData("show")]
        [InlineData("generate")]
        [InlineData("minimize")]
        [InlineData("diff")]
        public void Cli_reports_a_cycle_as_exit_2(string command)
        {
            var path = Hostile.Write(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);                                              // 1
                b.AddComposite(BtfKind.Struct, "foo", 8, ("", 3, 0, 0), ("x", 1, 32, 0));               // 2
                b.AddComposite(BtfKind.Union, "", 4, ("y", 1, 0, 0), ("", 3, 0, 0));                    // 3
            }, "cycle.btf");
            var args = command == "diff" ? new List<string> { command, path, path, "foo" } : new List<string> { command, "--btf", path, "foo" };
            if (command == "minimize") args.AddRange(new[] { "-o", Path.Combine(Path.GetDirectoryName(path)!, "min.btf") });
            CliSupport.CliResult? r = null;
            Hostile.OnSmallStack(() => r = CliSupport.Run(args.ToArray()));
            Assert.True(r!.ExitCode == 2, r.ToString());
            Assert.Contains("union (anon) (id 3) contains itself by value", r.StdErr);
            Assert.Contains(path, r.StdErr);
        }

        [Fact]
        public void Cli_show_of_deep_nesting_is_exit_2()
        {
            var b = new BtfBuilder();
            var path = Hostile.Write(x =>
            {
                x.AddInt("int", 4, BtfIntEncoding.Signed);
                x.AddComposite(BtfKind.Struct, "top", 4, ("", 3, 0, 0));
                for (int k = 0; k < 1000; k++) x.AddComposite(BtfKind.Struct, "", 4, k == 999 ? Hostile.M("leaf", 1) : Hostile.M("", 4 + k));
            }, "deep.btf");
            CliSupport.CliResult? r = null;
            Hostile.OnSmallStack(() => r = CliSupport.Run("show", "--btf", path, "top"));
            Assert.True(r!.ExitCode == 2, r.ToString());
            Assert.Contains("nested deeper than", r.StdErr);
        }

        [Fact]
        public void Cli_generate_of_a_huge_array_warns_with_the_real_size()
        {
            var path = Hostile.Write(b =>
            {
                b.AddInt("long", 8, BtfIntEncoding.Signed);
                b.AddComposite(BtfKind.Struct, "big", 16, ("data", 3, 0, 0));
                b.AddArray(1, 4, uint.MaxValue);
                b.AddInt("int", 4, BtfIntEncoding.Signed);
                b.AddComposite(BtfKind.Struct, "outer", 20, ("b", 2, 0, 0), ("x", 4, 128, 0));
            }, "huge.btf");
            var r = CliSupport.Run("generate", "--btf", path, "outer");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("34359738360", r.StdErr);
            Assert.DoesNotContain("4294967295>", r.StdOut);
            Assert.DoesNotContain("InlineArray(4294967295)", r.StdOut);
        }
    }

    /// <summary>CO-RE resolution against a malformed target: a BtfException (or CoreException), never a stack overflow or hang.</summary>
    public class HostileTargetTests
    {
        private static BtfTypeLayout LocalFoo()
        {
            var good = Hostile.Parse(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);
                b.AddComposite(BtfKind.Struct, "foo", 8, ("a", 1, 0, 0), ("y", 1, 32, 0));
                b.AddInt("long", 8, BtfIntEncoding.Signed);
            }, "local.btf");
            return new PlannedLayouts(LayoutPlanner.Plan(good, new[] { "foo" }, null, out _))["foo"]!;
        }

        private static BtfException ResolveThrows(Btf target, params string[] parts)
        {
            var local = LocalFoo();
            BtfException? e = null;
            Hostile.OnSmallStack(() => e = Throws(() => new TargetKernel(target).Resolve(local), parts));
            return e!;
        }

        [Theory]
        [InlineData(BtfKind.Struct)]
        [InlineData(BtfKind.Union)]
        public void Target_with_a_self_containing_anonymous_member_names_the_cycle(BtfKind kind)
        {
            var target = Hostile.SelfContainingAnonymous(kind, flattened: true);
            string tag = kind == BtfKind.Union ? "union" : "struct";
            var e = ResolveThrows(target, $"{tag} (anon) (id 3) contains itself by value", "hostile.btf");
            Assert.Equal(3, e.TypeId);
        }

        [Fact]
        public void Target_struct_with_itself_as_an_anonymous_member_names_the_cycle()
        {
            // struct foo (2) { int a; struct foo; } (the MS extension, with the struct itself).
            var target = Hostile.Parse(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);
                b.AddComposite(BtfKind.Struct, "foo", 8, ("a", 1, 0, 0), ("", 2, 32, 0));
            });
            ResolveThrows(target, "struct foo (id 2) contains itself by value: struct foo (id 2) -> struct foo (id 2)");
        }

        [Fact]
        public void Target_with_1000_levels_of_anonymous_members_is_a_clean_error()
        {
            var target = Hostile.Parse(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);                              // 1
                b.AddComposite(BtfKind.Struct, "foo", 8, ("", 3, 0, 0));               // 2
                for (int k = 0; k < 1000; k++) b.AddComposite(BtfKind.Struct, "", 8, k == 999 ? Hostile.M("a", 1) : Hostile.M("", 4 + k));
            });
            ResolveThrows(target, "nested deeper than", "foo");
        }

        [Fact]
        public void Target_with_exponentially_many_anonymous_members_is_a_clean_error()
        {
            var target = Hostile.Parse(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);                              // 1
                b.AddComposite(BtfKind.Struct, "foo", 8, ("", 3, 0, 0), ("", 3, 0, 0)); // 2
                for (int k = 0; k < 50; k++)
                    b.AddComposite(BtfKind.Union, "", 8, k == 49 ? Hostile.M("a", 1) : Hostile.M("", 4 + k), k == 49 ? Hostile.M("b", 1) : Hostile.M("", 4 + k));
            });
            var sw = Stopwatch.StartNew();
            ResolveThrows(target, "more than", "members", "foo");
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
        }

        [Fact]
        public void Target_member_whose_type_is_a_typedef_loop_is_missing_not_a_crash()
        {
            // struct foo { int a; t0 y; } with typedef t0 -> t1 -> t0.
            var target = Hostile.Parse(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);                              // 1
                b.AddComposite(BtfKind.Struct, "foo", 8, ("a", 1, 0, 0), ("y", 3, 32, 0)); // 2
                b.AddRef(BtfKind.Typedef, 4, "t0");                                     // 3
                b.AddRef(BtfKind.Typedef, 3, "t1");                                     // 4
            });
            var local = LocalFoo();
            CoreTypeResolution? r = null;
            Hostile.OnSmallStack(() => r = new TargetKernel(target).Resolve(local));
            Assert.True(r!["a"].Exists);
            Assert.False(r["y"].Exists);
            Assert.Contains("typedef t0 (id 3) refers to itself", r["y"].Problem);
        }

        [Fact]
        public void Target_member_of_a_self_containing_struct_resolves_without_recursing()
        {
            // struct foo { int a; struct foo y; }: the target is cyclic, but resolution follows the local layout, which is not.
            var target = Hostile.Parse(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);
                b.AddComposite(BtfKind.Struct, "foo", 8, ("a", 1, 0, 0), ("y", 2, 32, 0));
            });
            var local = LocalFoo();
            CoreTypeResolution? r = null;
            Hostile.OnSmallStack(() => r = new TargetKernel(target).Resolve(local));
            Assert.True(r!["a"].Exists);
            Assert.False(r["y"].Exists); // an int locally, a struct in the target
        }
    }

    /// <summary>Through the source generator: a cycle is BTFB004 naming it (not CS0523 after BTFB008), an oversized type BTFB008 and code that compiles.</summary>
    [Collection("generator-cache")]
    public class HostileGeneratorTests
    {
        private static (IReadOnlyList<Diagnostic> generator, IReadOnlyList<Diagnostic> compiler) Run(string path, string types)
        {
            string code = "using BtfBindings;\nnamespace Demo { [BtfTypes(" + types + ")] public static partial class Kernel { } }";
            var comp = GeneratorHarness.Compile(new[] { code });
            IReadOnlyList<Diagnostic>? gd = null;
            Compilation? output = null;
            Hostile.OnSmallStack(() =>
            {
                GeneratorHarness.CreateDriver(GeneratorHarness.FilesProperty((path, Guid.NewGuid().ToString("N"))))
                    .RunGeneratorsAndUpdateCompilation(comp, out output, out var d);
                gd = d;
            });
            return (gd!, output!.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList());
        }

        [Fact]
        public void Struct_containing_itself_through_a_typedef_is_BTFB004_naming_the_cycle()
        {
            var path = Hostile.Write(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);
                b.AddComposite(BtfKind.Struct, "foo", 8, ("x", 5, 0, 0));
                b.AddRef(BtfKind.Const, 2);
                b.AddRef(BtfKind.Volatile, 3);
                b.AddRef(BtfKind.Typedef, 4, "foo_t");
                b.AddInt("long", 8, BtfIntEncoding.Signed);
            }, "cycle.btf");
            var (gen, compiler) = Run(path, "\"foo\"");
            var d = Assert.Single(gen);
            Assert.Equal("BTFB004", d.Id);
            Assert.Contains("struct foo (id 2) contains itself by value", d.GetMessage());
            Assert.DoesNotContain(compiler, c => c.Id == "CS0523");
        }

        [Fact]
        public void Anonymous_union_containing_itself_is_BTFB004()
        {
            var path = Hostile.Write(b =>
            {
                b.AddInt("int", 4, BtfIntEncoding.Signed);
                b.AddComposite(BtfKind.Struct, "foo", 8, ("", 3, 0, 0), ("x", 1, 32, 0));
                b.AddComposite(BtfKind.Union, "", 4, ("y", 1, 0, 0), ("", 3, 0, 0));
                b.AddInt("long", 8, BtfIntEncoding.Signed);
            }, "anon.btf");
            var (gen, _) = Run(path, "\"foo\"");
            var d = Assert.Single(gen);
            Assert.Equal("BTFB004", d.Id);
            Assert.Contains("union (anon) (id 3) contains itself by value", d.GetMessage());
        }

        [Fact]
        public void Oversized_types_are_BTFB008_and_the_output_compiles()
        {
            var path = Hostile.Write(b =>
            {
                b.AddInt("long", 8, BtfIntEncoding.Signed);                                         // 1
                b.AddComposite(BtfKind.Struct, "big", 16, ("data", 3, 0, 0));                       // 2
                b.AddArray(1, 4, uint.MaxValue);                                                    // 3
                b.AddInt("int", 4, BtfIntEncoding.Signed);                                          // 4
                b.AddComposite(BtfKind.Struct, "outer", 20, ("b", 2, 0, 0), ("x", 4, 128, 0));      // 5
                b.AddComposite(BtfKind.Struct, "huge", 0x80000010u, ("x", 4, 0, 0));               // 6
                b.AddInt("char", 1, BtfIntEncoding.Signed);                                         // 7
                b.AddArray(7, 4, 2147483664u);                                                      // 8
                b.AddComposite(BtfKind.Union, "u", 16, ("c", 8, 0, 0), ("x", 4, 0, 0));             // 9
                b.AddComposite(BtfKind.Struct, "empty", 0);                                         // 10
                b.AddArray(10, 4, uint.MaxValue);                                                   // 11
                b.AddComposite(BtfKind.Struct, "zeros", 4, ("e", 11, 0, 0), ("x", 4, 0, 0));        // 12
            }, "huge.btf");
            var (gen, compiler) = Run(path, "\"outer\", \"huge\", \"u\", \"zeros\"");
            Assert.NotEmpty(gen);
            Assert.All(gen, d => Assert.Equal("BTFB008", d.Id));
            Assert.Contains(gen, d => d.GetMessage().Contains("34359738360"));
            Assert.Contains(gen, d => d.GetMessage().Contains("struct huge (id 6) is emitted opaque"));
            Assert.True(compiler.Count == 0, string.Join("\n", compiler));
        }
    }
    /// <summary>
    /// The stress run's kind of input, in small: a real kernel's BTF with one to three targeted changes (a member's type
    /// pointed at its own struct or another, an array length, a struct size or member offset made huge, a typedef or
    /// qualifier retargeted), then planned, shown and CO-RE-resolved on a 1 MiB stack with a watchdog. The only exceptions
    /// allowed are BtfException and CoreException; every plan must be representable in C#.
    /// </summary>
    public class HostileMutationTests
    {
        private readonly Xunit.Abstractions.ITestOutputHelper _out;
        public HostileMutationTests(Xunit.Abstractions.ITestOutputHelper output) { _out = output; }

        private static readonly string[] Roots = { "task_struct", "sk_buff", "file", "inode", "page", "pglist_data", "net_device", "mm_struct" };

        /// <summary>(kind, byte offset, vlen) of every record of a little-endian raw BTF, by id.</summary>
        private static List<(BtfKind kind, int at, int vlen)> Records(byte[] d)
        {
            uint U(int o) => BitConverter.ToUInt32(d, o);
            int hdr = (int)U(4), start = hdr + (int)U(8), end = start + (int)U(12);
            var list = new List<(BtfKind, int, int)> { (BtfKind.Void, 0, 0) };
            for (int at = start; at < end;)
            {
                uint info = U(at + 4);
                var k = (BtfKind)((info >> 24) & 0x7f);
                int vlen = (int)(info & 0xffff);
                list.Add((k, at, vlen));
                at += 12 + k switch
                {
                    BtfKind.Int or BtfKind.Var or BtfKind.DeclTag => 4,
                    BtfKind.Array => 12,
                    BtfKind.Struct or BtfKind.Union or BtfKind.DataSec or BtfKind.Enum64 => 12 * vlen,
                    BtfKind.Enum or BtfKind.FuncProto => 8 * vlen,
                    _ => 0,
                };
            }
            return list;
        }

        private static uint Huge(Random r) => r.Next(6) switch
        {
            0 => uint.MaxValue, 1 => 0x80000000u, 2 => 0x7FFFFFFFu, 3 => 0x80000010u, 4 => (uint)r.Next(1 << 21, int.MaxValue), _ => (uint)r.Next(),
        };

        [FullFact]
        public void Mutated_kernel_btf_plans_shows_and_resolves_without_crash_or_hang()
        {
            var original = BtfBindings.Tests.Support.Fixtures.Bytes("x86_64-5.10");
            var recs = Records(original);
            var orig = Btf.Parse((byte[])original.Clone(), "x86_64-5.10");
            var composites = Enumerable.Range(1, recs.Count - 1).Where(i => recs[i].kind is BtfKind.Struct or BtfKind.Union && recs[i].vlen > 0).ToArray();
            var refs = Enumerable.Range(1, recs.Count - 1).Where(i => recs[i].kind is BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile).ToArray();
            var arrays = Enumerable.Range(1, recs.Count - 1).Where(i => recs[i].kind == BtfKind.Array).ToArray();
            var localPlan = LayoutPlanner.Plan(orig, Roots, null, out _);
            var locals = new PlannedLayouts(localPlan);
            var localRoots = Roots.Select(n => locals[n]).Where(l => l != null).ToArray();

            const int iterations = 400;
            var rng = new Random(14);
            int parsed = 0, planned = 0, cycles = 0, opaque = 0, planAll = 0;
            var unexpected = new List<string>();
            string current = "";
            long started = 0;
            var worker = new Thread(() =>
            {
                for (int it = 0; it < iterations; it++)
                {
                    var d = (byte[])original.Clone();
                    var what = new List<string>();
                    int focus = composites[rng.Next(composites.Length)];
                    for (int n = 1 + rng.Next(3); n > 0; n--)
                    {
                        int c = composites[rng.Next(composites.Length)];
                        var (_, at, vlen) = recs[c];
                        int m = at + 12 + 12 * rng.Next(vlen);
                        switch (rng.Next(6))
                        {
                            case 0: case 1:
                                {
                                    int target = rng.Next(3) switch { 0 => c, 1 => composites[rng.Next(composites.Length)], _ => rng.Next(1, recs.Count) };
                                    BitConverter.TryWriteBytes(d.AsSpan(m + 4), target); what.Add($"[{c}] member type -> {target}"); focus = c; break;
                                }
                            case 2:
                                { int a = arrays[rng.Next(arrays.Length)]; uint v = Huge(rng); BitConverter.TryWriteBytes(d.AsSpan(recs[a].at + 20), v); what.Add($"[{a}] array length -> {v}"); break; }
                            case 3:
                                { uint v = Huge(rng); BitConverter.TryWriteBytes(d.AsSpan(at + 8), v); what.Add($"[{c}] size -> {v}"); focus = c; break; }
                            case 4:
                                { uint v = Huge(rng); BitConverter.TryWriteBytes(d.AsSpan(m + 8), v); what.Add($"[{c}] member offset -> {v}"); focus = c; break; }
                            default:
                                {
                                    int r = refs[rng.Next(refs.Length)];
                                    int target = rng.Next(2) == 0 ? r : composites[rng.Next(composites.Length)];
                                    BitConverter.TryWriteBytes(d.AsSpan(recs[r].at + 8), target); what.Add($"[{r}] {recs[r].kind} -> {target}"); break;
                                }
                        }
                    }
                    Volatile.Write(ref current, $"#{it}: " + string.Join("; ", what));
                    Interlocked.Exchange(ref started, Stopwatch.GetTimestamp());
                    try
                    {
                        var btf = Btf.Parse(d, "mutated");
                        parsed++;
                        var names = new List<string>(Roots.Take(2));
                        var ft = btf[focus];
                        if (!ft.IsAnonymous) names.Add(ft.Name);
                        LayoutPlan plan;
                        try { plan = LayoutPlanner.Plan(btf, names, null, out _); planned++; }
                        catch (BtfException e) { if (e.Message.Contains("contains itself by value") || e.Message.Contains("refers to itself")) cycles++; plan = null!; }
                        if (plan != null)
                        {
                            Check(plan, unexpected, current);
                            opaque += plan.Types.Count(t => t.OpaqueReason?.StartsWith("C# cannot", StringComparison.Ordinal) == true);
                            var view = new LayoutViewBuilder(btf, plan);
                            foreach (var t in plan.Types.Where(t => t.Kind is PlannedKind.Struct or PlannedKind.Union).Take(20))
                                try { view.Build(t); } catch (BtfException) { }
                        }
                        var kernel = new TargetKernel(btf);
                        foreach (var l in localRoots)
                        {
                            try
                            {
                                var res = kernel.Resolve(l!);
                                foreach (var f in res.Fields)
                                    if (f.Local.TypeLayout != null && f.Exists) try { res.Nested(f.Index, f.Local.TypeLayout); } catch (CoreException) { } catch (BtfException) { }
                            }
                            catch (BtfException) { }
                            catch (CoreException) { }
                        }
                        if (it % 40 == 0)
                        {
                            try { LayoutPlanner.PlanAll(btf); planAll++; } catch (BtfException) { }
                        }
                    }
                    catch (BtfException) { }
                    catch (Exception e) { lock (unexpected) unexpected.Add(Volatile.Read(ref current) + "\n" + e); }
                }
                Interlocked.Exchange(ref started, 0);
            }, 1 << 20) { IsBackground = true };
            var total = Stopwatch.StartNew();
            worker.Start();
            string? hang = null;
            while (!worker.Join(200))
            {
                long s0 = Interlocked.Read(ref started);
                if (s0 != 0 && Stopwatch.GetElapsedTime(s0) > TimeSpan.FromSeconds(20)) { hang = Volatile.Read(ref current); break; }
            }
            _out.WriteLine($"{iterations} mutations in {total.Elapsed.TotalSeconds:0.0} s: {parsed} parsed, {planned} planned, {cycles} cycle errors, {opaque} types made opaque for size, {planAll} PlanAll runs");
            Assert.True(hang == null, "hang on " + hang);
            Assert.True(unexpected.Count == 0, string.Join("\n\n", unexpected.Take(5)));
            Assert.True(cycles > 0 && opaque > 0, $"the mutations should make cycles ({cycles}) and oversized types ({opaque})");
        }

        private static void Check(LayoutPlan plan, List<string> bad, string mutation)
        {
            void One(PlannedType t, bool nested)
            {
                if (t.Kind == PlannedKind.Opaque) { if (nested || t.Fields.Count > 0) bad.Add(mutation + ": opaque with fields or nested " + t.Name); return; }
                if (t.Kind == PlannedKind.Enum) return;
                if (t.Size > LayoutLimits.MaxTypeSize) bad.Add($"{mutation}: {t.Name} size {t.Size}");
                foreach (var f in t.Fields)
                {
                    if ((ulong)f.BitOffset / 8 + f.Type.ByteSize > LayoutLimits.MaxTypeSize) bad.Add($"{mutation}: {t.Name}.{f.Name} at {f.BitOffset / 8} + {f.Type.ByteSize}");
                    for (var s = f.Type; s != null && s.Kind == TypeShapeKind.Array; s = s.Element)
                        if (s.Length > LayoutLimits.MaxTypeSize || s.ByteSize > LayoutLimits.MaxTypeSize) bad.Add($"{mutation}: {t.Name}.{f.Name} array of {s.Length}");
                    if (f.Type.Kind == TypeShapeKind.Composite && !f.Type.IsNested && plan.Types.FirstOrDefault(x => x.BtfId == f.Type.TypeId) is { Kind: PlannedKind.Opaque } o && o.OpaqueReason?.StartsWith("C# cannot", StringComparison.Ordinal) == true)
                        bad.Add($"{mutation}: {t.Name}.{f.Name} holds opaque {o.Name} by value");
                }
                foreach (var n in t.Nested) One(n, true);
            }
            foreach (var t in plan.Types) One(t, false);
        }
    }

}
