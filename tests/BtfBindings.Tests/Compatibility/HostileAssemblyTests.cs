using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using BtfBindings.Compatibility;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Compatibility
{
    /// <summary>
    /// The assembly scanner on hostile assemblies (what the fuzz harness <c>scan</c> found): it runs in MSBuild's process after
    /// every compile and on any file <c>btfgen compat --assembly</c> is given, so bad metadata must be a
    /// BadImageFormatException naming the file (what its callers catch), never a stack overflow, an endless loop or another
    /// exception. The assemblies are written here with System.Reflection.Metadata's builder, each with one defect.
    /// </summary>
    public sealed class HostileAssemblyTests : IDisposable
    {
        private readonly List<string> _dirs = new List<string>();

        public void Dispose()
        {
            foreach (var d in _dirs) try { Directory.Delete(d, true); } catch (IOException) { }
        }

        [Fact]
        public void A_type_reference_scoped_to_itself_is_a_bad_image_not_a_stack_overflow()
        {
            // TypeRef 1's resolution scope is TypeRef 1; the IL reads a field of it (the scanner asks for the field's owner).
            string path = Write((md, il) =>
            {
                var self = md.AddTypeReference(MetadataTokens.TypeReferenceHandle(1), md.GetOrAddString("N"), md.GetOrAddString("T"));
                var field = md.AddMemberReference(self, md.GetOrAddString("f"), FieldSignature(md));
                il.Add(0x14); // ldnull
                Ldfld(il, MetadataTokens.GetToken(field));
            });
            var e = Assert.Throws<BadImageFormatException>(() => AssemblyUseScanner.Scan(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("cycle", e.Message);
        }

        [Fact]
        public void Types_nested_in_each_other_are_a_bad_image_not_an_endless_loop()
        {
            string path = Write((md, il) =>
            {
                var a = AddType(md, "A");
                var b = AddType(md, "B");
                md.AddNestedType(a, b);
                md.AddNestedType(b, a);
            });
            var e = Assert.Throws<BadImageFormatException>(() => AssemblyUseScanner.Scan(path));
            Assert.Contains(path, e.Message);
        }

        [Fact]
        public void Operand_tokens_of_other_tables_or_past_their_table_are_no_use()
        {
            // ldfld of a user string token, call of method 0xFFFFFF, callvirt of MethodSpec 0 and of a TypeSpec token:
            // MetadataTokens.EntityHandle throws ArgumentException for some, a handle cast InvalidCastException for others.
            string path = Write((md, il) =>
            {
                il.Add(0x14);
                Ldfld(il, 0x70000001);
                foreach (int token in new[] { 0x06FFFFFF, 0x2B000000, 0x2BFFFFFF, 0x1B000001, 0x0A000009 })
                {
                    il.Add(0x28);
                    il.AddRange(BitConverter.GetBytes(token));
                }
            });
            var scan = AssemblyUseScanner.Scan(path);
            Assert.Empty(scan.Uses);
        }

        [Fact]
        public void A_signature_claiming_more_elements_than_it_holds_is_a_bad_image_not_gigabytes()
        {
            // kernel.ValueOf<T>(...) whose instantiation blob says 2^29 - 1 generic arguments in 6 bytes: System.Reflection.Metadata's
            // decoder reserves an array of that many before reading one (a 9 KB input took 3 GB in the fuzzer).
            string path = Write((md, il) =>
            {
                var runtime = md.AddAssemblyReference(md.GetOrAddString("BtfBindings.Runtime"), new Version(0, 1), default, default, 0, default);
                var kernel = md.AddTypeReference(runtime, md.GetOrAddString("BtfBindings"), md.GetOrAddString("TargetKernel"));
                var sig = new BlobBuilder();
                new BlobEncoder(sig).MethodSignature(genericParameterCount: 1, isInstanceMethod: true).Parameters(1, r => r.Type().Int64(), p => p.AddParameter().Type().GenericMethodTypeParameter(0));
                var valueOf = md.AddMemberReference(kernel, md.GetOrAddString("ValueOf"), md.GetOrAddBlob(sig));
                var spec = md.AddMethodSpecification(valueOf, md.GetOrAddBlob(new byte[] { 0x0A, 0xDF, 0xFF, 0xFF, 0xFF, 0x08 }));
                il.Add(0x14); // ldnull (the kernel)
                il.Add(0x16); // ldc.i4.0 (the enumerator)
                il.Add(0x6F);
                il.AddRange(BitConverter.GetBytes(MetadataTokens.GetToken(spec)));
            });
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<BadImageFormatException>(() => AssemblyUseScanner.Scan(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("declares more elements than it holds", e.Message);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the scan allocated " + (GC.GetAllocatedBytesForCurrentThread() - before) + " bytes");
        }

        /// <summary>The count check passes real signatures (encoded by System.Reflection.Metadata's own encoder) and stops only
        /// counts the blob cannot hold: a generic parameter count reserves nothing and may exceed the blob.</summary>
        [Fact]
        public void Signature_count_check_passes_real_signatures_and_stops_impossible_counts()
        {
            var generic = new BlobBuilder(); // static void M<T0..T9>()
            new BlobEncoder(generic).MethodSignature(genericParameterCount: 10).Parameters(0, r => r.Void(), p => { });
            var rich = new BlobBuilder(); // instance int M(ref G<int, string>, int[,], T0*, delegate*<int, void>)
            new BlobEncoder(rich).MethodSignature(isInstanceMethod: true).Parameters(4, r => r.Type().Int32(), p =>
            {
                var g = p.AddParameter().Type(isByRef: true).GenericInstantiation(MetadataTokens.TypeReferenceHandle(1), 2, isValueType: false);
                g.AddArgument().Int32();
                g.AddArgument().String();
                p.AddParameter().Type().Array(e => e.Int32(), s => s.Shape(2, ImmutableArrayOf(3, 4), ImmutableArrayOf(0, -1)));
                p.AddParameter().Type().Pointer().GenericMethodTypeParameter(0);
                p.AddParameter().Type().FunctionPointer().Parameters(1, r => r.Void(), q => q.AddParameter().Type().Int32());
            });
            var field = new BlobBuilder(); // G<int[]> f
            var fg = new BlobEncoder(field).FieldSignature().GenericInstantiation(MetadataTokens.TypeReferenceHandle(2), 1, isValueType: true);
            fg.AddArgument().SZArray().Int32();
            foreach (var b in new[] { generic, rich, field }) Assert.True(Fits(b.ToArray()), BitConverter.ToString(b.ToArray()));

            Assert.False(Fits(new byte[] { 0x00, 0xDF, 0xFF, 0xFF, 0xFF, 0x01 })); // 2^29 - 1 parameters in one byte
            Assert.False(Fits(new byte[] { 0x0A, 0x05, 0x08 }));                   // five generic arguments, one given
            Assert.False(Fits(new byte[] { 0x06, 0x15, 0x12, 0x05, 0x40, 0x00 })); // field G<...> of 0x4000 arguments
        }

        private static System.Collections.Immutable.ImmutableArray<int> ImmutableArrayOf(params int[] v) => System.Collections.Immutable.ImmutableArray.Create(v);

        private static unsafe bool Fits(byte[] blob)
        {
            fixed (byte* p = blob)
            {
                var r = new BlobReader(p, blob.Length);
                return AssemblyUseScanner.SignatureCounts.Fit(ref r);
            }
        }

        [Fact]
        public void A_method_body_rva_outside_the_image_is_a_bad_image()
        {
            string path = Write((md, il) => { }, bodyRva: 0x7FFFFF00);
            var e = Assert.Throws<BadImageFormatException>(() => AssemblyUseScanner.Scan(path));
            Assert.Contains(path, e.Message);
        }

        /// <summary>
        /// Every input the fuzzer found (tests/fuzz/regressions/scan, the harness's format: a mode byte, the assembly's
        /// length, the assembly, then its PDB or its types assembly) scans or is a BadImageFormatException naming the file.
        /// </summary>
        [Fact]
        public void Fuzz_regressions_scan_or_are_a_bad_image()
        {
            var dir = Path.Combine(Fixtures.RepoRoot, "tests", "fuzz", "regressions", "scan");
            var files = Directory.GetFiles(dir).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).OrderBy(f => f, StringComparer.Ordinal).ToList();
            Assert.NotEmpty(files);
            foreach (var file in files)
            {
                var data = File.ReadAllBytes(file);
                var work = Directory.CreateTempSubdirectory("scan-regression-").FullName;
                try
                {
                    int mode = data[0] % 4, first = (int)Math.Min(BitConverter.ToUInt32(data, 1), (uint)(data.Length - 5));
                    string app = Path.Combine(work, "ScanProbe.dll"), types = Path.Combine(work, "ScanProbe.BtfTypes.dll");
                    File.WriteAllBytes(app, data.AsSpan(5, first).ToArray());
                    var second = data.AsSpan(5 + first).ToArray();
                    if (mode == 1) File.WriteAllBytes(Path.Combine(work, "ScanProbe.pdb"), second);
                    if (mode >= 2) File.WriteAllBytes(types, second);
                    try { AssemblyUseScanner.Scan(app, mode == 2 ? new[] { types } : null); }
                    catch (BadImageFormatException e) { Assert.True(e.Message.Contains(app, StringComparison.Ordinal), Path.GetFileName(file) + ": " + e.Message); }
                    catch (Exception e) { Assert.Fail(Path.GetFileName(file) + ": " + e); }
                }
                finally { Directory.Delete(work, true); }
            }
        }

        [Fact]
        public void A_referenced_assembly_with_malformed_metadata_is_named_not_the_scanned_one()
        {
            // Lib.dll references BtfBindings.Runtime (so the scanner reads its types) and a type of it implements an interface
            // through a TypeRef row past the table: System.Reflection.Metadata's error there names no file; ours names Lib.dll.
            string lib = Write((md, il) =>
            {
                md.AddAssemblyReference(md.GetOrAddString("BtfBindings.Runtime"), new Version(1, 0), default, default, 0, default);
                md.AddInterfaceImplementation(AddType(md, "T"), MetadataTokens.TypeReferenceHandle(0x3FFF));
            }, name: "Lib");
            string app = Write((md, il) => md.AddAssemblyReference(md.GetOrAddString("Lib"), new Version(1, 0), default, default, 0, default),
                dir: Path.GetDirectoryName(lib));
            var e = Assert.Throws<BadImageFormatException>(() => AssemblyUseScanner.Scan(app));
            Assert.Equal(lib, e.FileName);
            Assert.StartsWith(lib + " has malformed metadata", e.Message);
            // given as a reference path (as the build passes them), the same
            e = Assert.Throws<BadImageFormatException>(() => AssemblyUseScanner.Scan(app, new[] { lib }));
            Assert.Equal(lib, e.FileName);
        }

        // ---- a minimal assembly: <Module>, class C with one static method M whose IL the test writes (ends in ret) ----

        private string Write(Action<MetadataBuilder, List<byte>> build, int bodyRva = -1, string name = "Hostile", string? dir = null)
        {
            var md = new MetadataBuilder();
            md.AddModule(0, md.GetOrAddString(name + ".dll"), md.GetOrAddGuid(Guid.NewGuid()), default, default);
            md.AddAssembly(md.GetOrAddString(name), new Version(1, 0), default, default, 0, AssemblyHashAlgorithm.Sha1);
            md.AddTypeDefinition(0, default, md.GetOrAddString("<Module>"), default, MetadataTokens.FieldDefinitionHandle(1), MetadataTokens.MethodDefinitionHandle(1));
            var il = new List<byte>();
            build(md, il);
            il.Add(0x2A); // ret
            var bodies = new BlobBuilder();
            var encoder = new MethodBodyStreamEncoder(bodies);
            var body = new BlobBuilder();
            body.WriteBytes(il.ToArray());
            int offset = encoder.AddMethodBody(new InstructionEncoder(body), maxStack: 8);
            var signature = new BlobBuilder();
            new BlobEncoder(signature).MethodSignature().Parameters(0, r => r.Void(), p => { });
            // C is the last type (its method list starts at method 1; the test's own types have none).
            md.AddTypeDefinition(TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed, md.GetOrAddString("App"), md.GetOrAddString("C"),
                default, MetadataTokens.FieldDefinitionHandle(1), MetadataTokens.MethodDefinitionHandle(1));
            md.AddMethodDefinition(MethodAttributes.Public | MethodAttributes.Static, MethodImplAttributes.IL, md.GetOrAddString("M"), md.GetOrAddBlob(signature), bodyRva >= 0 ? bodyRva : offset, default);
            var pe = new ManagedPEBuilder(new PEHeaderBuilder(imageCharacteristics: Characteristics.Dll | Characteristics.ExecutableImage), new MetadataRootBuilder(md), bodies);
            var image = new BlobBuilder();
            pe.Serialize(image);
            if (dir == null)
            {
                dir = Directory.CreateTempSubdirectory("scan-hostile-").FullName;
                _dirs.Add(dir);
            }
            string path = Path.Combine(dir, name + ".dll");
            using (var f = File.Create(path)) image.WriteContentTo(f);
            return path;
        }

        private static TypeDefinitionHandle AddType(MetadataBuilder md, string name)
            => md.AddTypeDefinition(TypeAttributes.Public, default, md.GetOrAddString(name), default, MetadataTokens.FieldDefinitionHandle(1), MetadataTokens.MethodDefinitionHandle(1));

        private static BlobHandle FieldSignature(MetadataBuilder md)
        {
            var b = new BlobBuilder();
            new BlobEncoder(b).FieldSignature().Int32();
            return md.GetOrAddBlob(b);
        }

        private static void Ldfld(List<byte> il, int token)
        {
            il.Add(0x7B);
            il.AddRange(BitConverter.GetBytes(token));
        }
    }
}
