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
        /// on corrupt gzip data, wrapped in a BtfException naming the file).</summary>
        private static readonly Type[] AcceptedInner = { typeof(BtfException), typeof(CoreException), typeof(InvalidDataException) };

        /// <summary>Allocation budget of one execution, beyond which the input counts as a crash (an absurd size taken
        /// from the input: a decompression or count that the data cannot back). BTFFUZZ_MAX_ALLOC_MB overrides it.</summary>
        public static readonly long MaxAllocBytes =
            (long.TryParse(Environment.GetEnvironmentVariable("BTFFUZZ_MAX_ALLOC_MB"), out var mb) && mb > 0 ? mb : 512) << 20;

        /// <summary>BTFFUZZ_TRACE=1: print each call before making it (to see where a hang is).</summary>
        public static readonly bool Trace = Environment.GetEnvironmentVariable("BTFFUZZ_TRACE") == "1";

        /// <summary>The last accepted exception of the current execution (for the replay log).</summary>
        public static volatile string? LastAccepted;

        /// <summary>Runs one execution of <paramref name="harness"/> and enforces the allocation budget.</summary>
        public static void Check(string name, Action<byte[]> harness, byte[] data)
        {
            LastAccepted = null;
            long before = GC.GetTotalAllocatedBytes(false);
            harness(data);
            long used = GC.GetTotalAllocatedBytes(false) - before;
            if (Trace) Console.Error.WriteLine($"[trace] {name}: allocated {used / 1024} KiB for a {data.Length}-byte input");
            if (used > MaxAllocBytes)
                throw new ExcessiveAllocationException($"{name}: one execution allocated {used >> 20} MiB for a {data.Length}-byte input (budget {MaxAllocBytes >> 20} MiB)");
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
            return r;
        }

        private static bool IsAccepted(Exception e, Type[] accepted)
        {
            if (!IsOneOf(e, accepted)) return false;
            for (var inner = e.InnerException; inner != null; inner = inner.InnerException)
                if (!IsOneOf(inner, AcceptedInner)) return false;
            return true;
        }

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

    /// <summary>An execution allocated more than <see cref="Contract.MaxAllocBytes"/>.</summary>
    public sealed class ExcessiveAllocationException : Exception
    {
        public ExcessiveAllocationException(string message) : base(message) { }
    }
}
