// Language features used by the shared sources on netstandard2.0.
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit { }
}

namespace System.Runtime.CompilerServices
{
    /// <summary>Marks <see cref="BtfBindings.Emit.LineHandler"/> as an interpolated string handler (in the BCL from .NET 6).</summary>
    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
    internal sealed class InterpolatedStringHandlerAttribute : Attribute { }

    /// <summary>Passes the receiver to the handler's constructor (in the BCL from .NET 6).</summary>
    [AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
    internal sealed class InterpolatedStringHandlerArgumentAttribute : Attribute
    {
        public InterpolatedStringHandlerArgumentAttribute(string argument) { Arguments = new string[] { argument }; }
        public InterpolatedStringHandlerArgumentAttribute(params string[] arguments) { Arguments = arguments; }
        public string[] Arguments { get; }
    }
}

namespace System.Runtime.CompilerServices
{
    /// <summary>The argument's source text for the ThrowIf helpers below (in the BCL from .NET Core 3.0).</summary>
    [AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
    internal sealed class CallerArgumentExpressionAttribute : Attribute
    {
        public CallerArgumentExpressionAttribute(string parameterName) { ParameterName = parameterName; }
        public string ParameterName { get; }
    }
}

namespace System.Diagnostics.CodeAnalysis
{
    /// <summary>The argument is not null when the method returns (in the BCL from .NET Core 3.0).</summary>
    [AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.ReturnValue, Inherited = false)]
    internal sealed class NotNullAttribute : Attribute { }
}

namespace BtfBindings
{
    /// <summary>
    /// The few .NET 6+ members the linked CO-RE sources (by-name resolution, the compatibility rule) call, for the compiler's
    /// netstandard2.0 host; C# 14 extension members, so those sources compile unchanged.
    /// </summary>
    internal static class NetStandardPolyfills
    {
        extension(System.ArgumentNullException)
        {
            public static void ThrowIfNull([System.Diagnostics.CodeAnalysis.NotNull] object? argument, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(argument))] string? paramName = null)
            {
                if (argument is null) throw new System.ArgumentNullException(paramName);
            }
        }

        extension(System.ArgumentOutOfRangeException)
        {
            public static void ThrowIfNegative(int value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string? paramName = null)
            {
                if (value < 0) throw new System.ArgumentOutOfRangeException(paramName, value, "must not be negative");
            }
        }

        extension<TKey, TValue>(System.Collections.Generic.Dictionary<TKey, TValue> dictionary) where TKey : notnull
        {
            public bool TryAdd(TKey key, TValue value)
            {
                if (dictionary.ContainsKey(key)) return false;
                dictionary.Add(key, value);
                return true;
            }
        }

        extension(string s)
        {
            public bool EndsWith(char c) => s.Length > 0 && s[s.Length - 1] == c;
            public bool StartsWith(char c) => s.Length > 0 && s[0] == c;
        }

        extension(System.Security.Cryptography.SHA256)
        {
            public static byte[] HashData(System.IO.Stream stream)
            {
                using var sha = System.Security.Cryptography.SHA256.Create();
                return sha.ComputeHash(stream);
            }
        }

        extension(System.Convert)
        {
            public static string ToHexString(byte[] bytes)
            {
                var sb = new System.Text.StringBuilder(bytes.Length * 2);
                foreach (var b in bytes) sb.Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                return sb.ToString();
            }
        }

        extension(long)
        {
            public static bool TryParse(System.ReadOnlySpan<char> s, out long result) => long.TryParse(s.ToString(), out result);
        }
    }
}
