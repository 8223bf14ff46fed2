using System;
using System.IO;
using System.Runtime.CompilerServices;
using BtfBindings;

namespace BtfFuzz
{
    /// <summary>
    /// What a harness may throw. Each call into BtfBindings names the exception types its API documents; anything else
    /// escapes to SharpFuzz, which reports it to afl-fuzz as a crash. An accepted exception whose inner exceptions include
    /// one that is not accepted is a crash too: the XZ decoder turns IndexOutOfRange/ArgumentOutOfRange/Overflow into
    /// a BtfException ("internal decoder error"), which hides a missing bounds check rather than a bad input.
    /// </summary>
    public static class Contract
    {
        /// <summary>Container and BTF entry points: BtfException only (the project's one exception type).</summary>
        public static readonly Type[] BtfErrors = { typeof(BtfException) };

        /// <summary>The stand-alone decoders (XzDecoder, TarReader, Lz4LegacyDecoder): BtfException only, like every entry point.</summary>
        public static readonly Type[] DecoderErrors = { typeof(BtfException) };

        /// <summary>CO-RE: BtfException from the target BTF, CoreException (and subclasses) from matching and reading.</summary>
        public static readonly Type[] CoreErrors = { typeof(BtfException), typeof(CoreException) };

        /// <summary>Types that may appear as inner exceptions of an accepted one (InvalidDataException: the BCL's DeflateStream
        /// on corrupt gzip data, wrapped in a BtfException naming the file; BadImageFormatException: System.Reflection.Metadata's,
        /// wrapped by the assembly scanner in one naming the file).</summary>
        private static readonly Type[] AcceptedInner = { typeof(BtfException), typeof(CoreException), typeof(InvalidDataException), typeof(BadImageFormatException) };

        /// <summary>Allocation budget of one execution, beyond which the input counts as a crash (an absurd size taken
        /// from the input: a decompression or count that the data cannot back): a fixed part plus a multiple of the
        /// input's size, plus 8 x the output the decoders really produced (growing buffers, the exact-size copy, parsing
        /// it). The decoders' budgets are tight: xz/lzma may reserve one LZMA2 chunk (2 MiB) per call ahead of its output,
        /// LZ4 255 bytes per input byte (its largest ratio); before the allocation fixes a 56-byte xz took 240 MiB and
        /// a 1 KB LZ4 frame 16 MiB. BTFFUZZ_MAX_ALLOC_MB replaces the fixed part and drops the per-byte parts.</summary>
        public static long Budget(string harness, int inputLength, long produced)
        {
            if (long.TryParse(Environment.GetEnvironmentVariable("BTFFUZZ_MAX_ALLOC_MB"), out var mb) && mb > 0) return mb << 20;
            var (fixedMiB, perInputByte) = harness switch
            {
                "xz" or "lzma" or "tar" => (16L, 64L),
                "lz4" => (4L, 3 * 256L), // three decodes, each may reserve 255 bytes per input byte
                _ => (512L, 0L),         // parsers, planner, emitter: a coarse cap against runaway counts
            };
            return (fixedMiB << 20) + perInputByte * inputLength + 8 * produced;
        }

        /// <summary>Bytes the decoders returned in the current execution (see <see cref="Budget"/>).</summary>
        private static long _produced;

        /// <summary>BTFFUZZ_TRACE=1: print each call before making it (to see where a hang is).</summary>
        public static readonly bool Trace = Environment.GetEnvironmentVariable("BTFFUZZ_TRACE") == "1";

        /// <summary>The last accepted exception of the current execution (for the replay log).</summary>
        public static volatile string? LastAccepted;

        /// <summary>Runs one execution of <paramref name="harness"/> and enforces the allocation budget.</summary>
        public static void Check(string name, Action<byte[]> harness, byte[] data)
        {
            LastAccepted = null;
            _produced = 0;
            long before = GC.GetTotalAllocatedBytes(false);
            harness(data);
            long used = GC.GetTotalAllocatedBytes(false) - before;
            long budget = Budget(name, data.Length, _produced);
            if (Trace) Console.Error.WriteLine($"[trace] {name}: allocated {used / 1024} KiB for a {data.Length}-byte input, {_produced / 1024} KiB produced (budget {budget / 1024} KiB)");
            if (used > budget)
                throw new ExcessiveAllocationException($"{name}: one execution allocated {used / 1024} KiB for a {data.Length}-byte input that produced {_produced / 1024} KiB (budget {budget / 1024} KiB)");
        }

        /// <summary>Runs <paramref name="action"/>; an exception of an <paramref name="accepted"/> type (with only accepted
        /// inner exceptions) is swallowed, anything else propagates with its original stack.</summary>
        public static void Call(Action action, Type[] accepted, [CallerArgumentExpression(nameof(action))] string? what = null)
        {
            if (Trace) Console.Error.WriteLine("[trace] " + what);
            try { action(); }
            catch (Exception e) when (IsAccepted(e, accepted))
            {
                LastAccepted = e.GetType().Name + ": " + FirstLine(e.Message);
                if (Trace) Console.Error.WriteLine("[trace]   -> " + LastAccepted);
            }
        }

        /// <summary>As <see cref="Call(Action, Type[])"/>, returning the value or default when an accepted exception was thrown.</summary>
        public static T? Call<T>(Func<T> func, Type[] accepted, [CallerArgumentExpression(nameof(func))] string? what = null) where T : class
        {
            T? r = null;
            Call(() => { r = func(); }, accepted, what);
            if (r is byte[] output) _produced += output.Length;
            return r;
        }

        private static bool IsAccepted(Exception e, Type[] accepted)
        {
            if (!IsOneOf(e, accepted)) return false;
            for (var inner = e.InnerException; inner != null; inner = inner.InnerException)
                if (!IsOneOf(inner, AcceptedInner) && !FromMetadataReader(e, inner)) return false;
            return true;
        }

        /// <summary>System.Reflection.Metadata's own exception on a malformed image (it throws OverflowException or
        /// ArgumentException for some), wrapped by the assembly scanner in a BadImageFormatException naming the file:
        /// thrown inside that library, so not a bounds check missing from ours.</summary>
        private static bool FromMetadataReader(Exception outer, Exception inner)
            => outer is BadImageFormatException && inner.TargetSite?.DeclaringType?.Assembly.GetName().Name == "System.Reflection.Metadata";

        private static bool IsOneOf(Exception e, Type[] types)
        {
            foreach (var t in types) if (t.IsInstanceOfType(e)) return true;
            return false;
        }

        private static string FirstLine(string s)
        {
            int nl = s.IndexOf('\n');
            s = nl < 0 ? s : s.Substring(0, nl);
            return s.Length > 200 ? s.Substring(0, 200) + "..." : s;
        }
    }

    /// <summary>Two readers of the same input disagree.</summary>
    public sealed class DifferentialException : Exception
    {
        public DifferentialException(string message) : base(message) { }
    }

    /// <summary>An execution allocated more than its <see cref="Contract.Budget"/>.</summary>
    public sealed class ExcessiveAllocationException : Exception
    {
        public ExcessiveAllocationException(string message) : base(message) { }
    }
}
