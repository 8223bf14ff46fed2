using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Reflection;
using BtfBindings.Tests.Generator;
using Microsoft.CodeAnalysis;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// Runs the real source generator on a snippet with <c>[BtfTypes(...)]</c> over a BTF file, compiles the result with
    /// Roslyn and loads it, so tests use the generated structs and relocatable views exactly as an application would.
    /// </summary>
    internal static class GeneratedAssemblies
    {
        private static readonly ConcurrentDictionary<string, Lazy<Assembly>> Cache = new ConcurrentDictionary<string, Lazy<Assembly>>();

        public static Assembly Build(string btfPath, string source)
            => Cache.GetOrAdd(btfPath + "\n" + source, _ => new Lazy<Assembly>(() => Compile(btfPath, source))).Value;

        private static Assembly Compile(string btfPath, string source)
        {
            var info = new FileInfo(btfPath);
            var driver = GeneratorHarness.CreateDriver(GeneratorHarness.FilesProperty((btfPath, info.Length + "-" + info.LastWriteTimeUtc.Ticks)));
            var compilation = GeneratorHarness.Compile(new[] { source });
            driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var genDiags);
            var genErrors = genDiags.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (genErrors.Count > 0) throw new InvalidOperationException("generator errors: " + string.Join("\n", genErrors));
            using var ms = new MemoryStream();
            var result = output.Emit(ms);
            if (!result.Success)
            {
                var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20);
                throw new InvalidOperationException("generated code does not compile:\n" + string.Join("\n", errors.Select(e => e.ToString())));
            }
            return Assembly.Load(ms.ToArray());
        }

        /// <summary>Calls public static method <paramref name="method"/> of type <paramref name="type"/> in <paramref name="asm"/>, unwrapping reflection's exception.</summary>
        public static object? Call(Assembly asm, string type, string method, params object?[] args)
        {
            var t = asm.GetType(type, throwOnError: true)!;
            var m = t.GetMethod(method, BindingFlags.Public | BindingFlags.Static) ?? throw new MissingMethodException(type, method);
            try { return m.Invoke(null, args); }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }
    }
}
