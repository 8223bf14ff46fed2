using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using BtfBindings.Tests.Exactness;
using BtfBindings.Tests.Generator;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;
using GBtf = BtfBindings.Btf;
using GEmitOptions = BtfBindings.Emit.EmitOptions;
using GEmitter = BtfBindings.Emit.CSharpEmitter;
using GPlanner = BtfBindings.Layout.LayoutPlanner;

namespace BtfBindings.Tests.Objects
{
    /// <summary>
    /// The skeleton generator on clang-built fixture objects, in memory: the generated skeleton and types compile against
    /// BtfBindings.Bpf with no errors, maps are typed from their BTF definitions, globals are structs of the section's size,
    /// and every named struct/union of the object matches bpftool's dump of it (the kernel types' exactness harness).
    /// </summary>
    public class SkeletonGeneratorTests
    {
        private readonly ITestOutputHelper _out;
        public SkeletonGeneratorTests(ITestOutputHelper output) { _out = output; }

        private static (Compilation output, ImmutableArray<Diagnostic> diags, string skeleton) Run(string objectPath, string ns = "", string className = "", string typesBtf = "")
        {
            var manifest = $"object\t{objectPath}\tHASH\t{ns}\t{className}\t\t{typesBtf}\t\n";
            var gen = new BtfBindings.Objects.BpfSkeletonGenerator().AsSourceGenerator();
            GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { gen }, additionalTexts: new AdditionalText[] { new GeneratorHarness.Manifest(manifest) },
                parseOptions: new CSharpParseOptions(LanguageVersion.CSharp12));
            var refs = TestCompilation.References.Add(MetadataReference.CreateFromFile(typeof(BtfBindings.Bpf.BpfObject).Assembly.Location));
            var input = CSharpCompilation.Create("SkelTest", Array.Empty<SyntaxTree>(), refs,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
            driver.RunGeneratorsAndUpdateCompilation(input, out var output, out var diags);
            var skeleton = output.SyntaxTrees.FirstOrDefault(t => t.FilePath.EndsWith(".Skeleton.g.cs", StringComparison.Ordinal))?.ToString() ?? "";
            return (output, diags, skeleton);
        }

        [Fact]
        public void Features_object_skeleton_compiles_with_typed_maps_programs_and_globals()
        {
            var (output, diags, skel) = Run(Fixtures.Path("bpf-features.o"), "Demo");
            Assert.DoesNotContain(diags, d => d.Severity == DiagnosticSeverity.Error);
            var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.True(errors.Count == 0, TestCompilation.Describe(errors));
            _out.WriteLine(skel);
            Assert.Contains("public sealed partial class BpfFeatures", skel);
            Assert.Contains("global::BtfBindings.Bpf.BpfHashMap<uint, global::Demo.BpfFeatures.kitchen_sink> sink_map", skel);
            Assert.Contains("global::BtfBindings.Bpf.BpfArrayMap<global::Demo.BpfFeatures.number> num_map", skel);
            Assert.Contains("global::BtfBindings.Bpf.BpfRingBuffer events", skel);
            Assert.Contains("public ref global::Demo.BpfFeatures.RodataSection Rodata", skel);
            Assert.Contains("public ref global::Demo.BpfFeatures.BssSection Bss", skel);
            Assert.Contains("public ref global::Demo.BpfFeatures.DataSection Data", skel);

            // Section structs are the ELF sections' sizes (libbpf's map value size), members at the symbols' offsets.
            var asm = TestCompilation.Emit((CSharpCompilation)output);
            Assert.True(asm.Errors.Count == 0, TestCompilation.Describe(asm.Errors));
        }

        [Fact]
        public void Object_without_btf_is_BTFB014_naming_it()
        {
            var path = Path.Combine(Path.GetTempPath(), "btfbindings-notelf-" + Guid.NewGuid().ToString("N") + ".o");
            File.WriteAllText(path, "not an ELF object");
            try
            {
                var (_, diags, _) = Run(path);
                var d = Assert.Single(diags, x => x.Id == "BTFB014");
                Assert.Contains(path, d.GetMessage());
                Assert.Contains("not an ELF file", d.GetMessage());
            }
            finally { File.Delete(path); }
        }

        /// <summary>
        /// A ring-buffer record only a local uses is missing from the object's .BTF; with pahole's BTF of the object's DWARF
        /// on the manifest line the skeleton has it, at pahole's size and offsets (read from the DWARF); without, it has not.
        /// </summary>
        [SkippableFact]
        public void Event_type_only_a_local_uses_comes_from_the_DWARF_at_paholes_layout()
        {
            var dir = Path.Combine(Path.GetTempPath(), "btfb-local-event-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                var (obj, types) = LocalEventProgram.Build(dir);
                Assert.Empty(GBtf.Load(obj).FindTypes("event"));   // the problem: clang's .BTF lacks it
                Assert.DoesNotContain(RunTrees(obj, ""), t => t.Contains("struct @event"));
                Assert.Contains(RunTrees(obj, types), t => t.Contains("struct @event"));

                var (output, diags, _) = Run(obj, "Demo", "", types);
                Assert.DoesNotContain(diags, d => d.Severity == DiagnosticSeverity.Error);
                var asm = TestCompilation.Emit((CSharpCompilation)output);
                Assert.True(asm.Errors.Count == 0, TestCompilation.Describe(asm.Errors));
                var type = System.Reflection.Assembly.Load(asm.Image!).GetTypes().Single(t => t.Name == "event");
                Assert.Equal("Demo.Ring+event", type.FullName);

                var (size, offsets) = LocalEventProgram.PaholeLayout(obj, "event");
                Assert.Equal(size, (int)typeof(System.Runtime.CompilerServices.Unsafe).GetMethod("SizeOf")!.MakeGenericMethod(type).Invoke(null, null)!);
                Assert.Equal(new[] { "comm", "pid", "tail", "ts" }, offsets.Keys.OrderBy(k => k, StringComparer.Ordinal));
                foreach (var (member, offset) in offsets)
                {
                    var field = type.GetField(member) ?? throw new Xunit.Sdk.XunitException($"event has no field '{member}'");
                    Assert.True(field.GetCustomAttributes(typeof(System.Runtime.InteropServices.FieldOffsetAttribute), false).Cast<System.Runtime.InteropServices.FieldOffsetAttribute>().Single().Value == offset, member);
                }
                Assert.NotNull(type.GetProperty("is_thread"));   // the bitfield, read through the emitter's accessor
            }
            finally { Directory.Delete(dir, true); }
        }

        /// <summary>
        /// An object whose names collide with the skeleton's own (<see cref="NameClashProgram"/>): the skeleton compiles with
        /// no error and no warning in any generated file, every C type, map and program is reachable under its C name, and exactly the
        /// skeleton's names that clashed got '_' (SkeletonNames), each reported as BTFB015.
        /// </summary>
        [SkippableFact]
        public void Names_clashing_with_the_skeletons_keep_their_C_spelling_and_the_skeletons_yield()
        {
            using var tmp = new TempDir("name-clash");
            var (output, diags, skel) = Run(NameClashProgram.Build(tmp.Path), "Demo");
            _out.WriteLine(skel);
            Assert.DoesNotContain(diags, d => d.Severity == DiagnosticSeverity.Error);
            var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error
                || (d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true)).ToList();
            Assert.True(errors.Count == 0, TestCompilation.Describe(errors));
            var asm = TestCompilation.Emit((CSharpCompilation)output);
            Assert.True(asm.Errors.Count == 0, TestCompilation.Describe(asm.Errors));

            const System.Reflection.BindingFlags Declared = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly;
            var cls = System.Reflection.Assembly.Load(asm.Image!).GetType("Demo.Names_")
                ?? throw new Xunit.Sdk.XunitException("no class Demo.Names_ (struct Names takes 'Names')");
            Assert.True(typeof(IDisposable).IsAssignableFrom(cls));
            foreach (var type in NameClashProgram.Types) Assert.True(cls.GetNestedType(type) != null, "struct " + type + " is not nested under its C name");
            var programSet = cls.GetProperty("Programs_", Declared)!.PropertyType;
            var mapSet = cls.GetProperty("Maps_", Declared)!.PropertyType;
            Assert.Equal(new[] { "MapSet_", "ProgramSet_" }, new[] { mapSet.Name, programSet.Name }.OrderBy(n => n, StringComparer.Ordinal));
            Assert.Equal(NameClashProgram.Programs.OrderBy(n => n, StringComparer.Ordinal), programSet.GetProperties(Declared).Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal));
            Assert.Equal(NameClashProgram.Maps.OrderBy(n => n, StringComparer.Ordinal), mapSet.GetProperties(Declared).Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal));
            Assert.Equal(new[] { "Bss", "Data", "Object_", "RodataReadOnly", "Rodata_" }, cls.GetProperties(Declared).Select(p => p.Name).Where(n => n != "Programs_" && n != "Maps_").OrderBy(n => n, StringComparer.Ordinal));
            Assert.Equal(new[] { "Attach", "Dispose_", "Load_", "Open_" }, cls.GetMethods(Declared).Select(m => m.Name).Where(n => !n.StartsWith("get_", StringComparison.Ordinal)).OrderBy(n => n, StringComparer.Ordinal));
            Assert.Equal("RodataSection_", cls.GetProperty("Rodata_", Declared)!.PropertyType.GetElementType()!.Name);
            Assert.Equal(0x4, System.Runtime.InteropServices.Marshal.SizeOf(cls.GetNestedType("RodataSection")!));   // the C struct, not the section's
            Assert.Contains(diags, d => d.Id == "BTFB015" && d.GetMessage().Contains("the skeleton's 'Maps' is 'Maps_'"));
            // Named like object's members, they keep their C names (declared 'new'), at the C offsets.
            var toString = cls.GetNestedType("ToString")!;
            Assert.Equal(4, (int)System.Runtime.InteropServices.Marshal.OffsetOf(toString, "GetHashCode"));
            Assert.NotNull(toString.GetField("Equals", Declared));
            Assert.NotNull(cls.GetNestedType("GetType")!.GetField("MemberwiseClone", Declared));
        }

        private static IEnumerable<string> RunTrees(string obj, string typesBtf)
            => Run(obj, "Demo", "", typesBtf).output.SyntaxTrees.Select(t => t.ToString());

        public static TheoryData<string> Objects() => new TheoryData<string> { "bpf-features.o", "bpf-features-eb.o" };

        /// <summary>Every named struct and union of the object, generated the way the skeleton generator does, against bpftool's dump of the object.</summary>
        [Theory]
        [MemberData(nameof(Objects))]
        public void Object_types_match_bpftool(string fixture)
        {
            var path = Fixtures.Path(fixture);
            var truth = new BpftoolLayoutTruth(path, pointerSize: 8);
            var btf = GBtf.Load(path);
            var plan = GPlanner.PlanAll(btf);
            var files = new GEmitter(plan, new GEmitOptions { Namespace = "K", SourceLabel = fixture }).Emit();
            var run = ExactnessHarness.Run(fixture, truth, plan, files.Select(f => (f.HintName, f.Text)).ToList(), bigEndian: fixture.Contains("-eb"), requireAllNamed: true, "K");
            Assert.True(run.GeneratedErrors.Count == 0, TestCompilation.Describe(run.GeneratedErrors));
            Assert.True(run.CheckerErrors.Count == 0, TestCompilation.Describe(run.CheckerErrors));
            _out.WriteLine($"{fixture}: {run.CheckedTypes.Count} types, {run.Fields} fields, {run.Bitfields} bitfields checked; {run.Mismatches.Count} mismatches");
            Assert.True(run.Mismatches.Count == 0, string.Join("\n", run.Mismatches.Take(40)));
            Assert.True(run.Bitfields > 0 && run.CheckedTypes.Count > 5);
        }
    }
}
