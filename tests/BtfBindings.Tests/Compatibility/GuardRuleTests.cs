using BtfBindings.Compatibility;
using Xunit;

namespace BtfBindings.Tests.Compatibility
{
    /// <summary>What a guard (Has_x / Exists("x") before the use) changes in the problem rule, and what it does not.</summary>
    public class GuardRuleTests
    {
        [Theory]
        [InlineData("Missing", "View", false, true)]
        [InlineData("Missing", "View", true, false)]
        [InlineData("Incompatible", "View", true, false)]
        [InlineData("Ambiguous", "View", true, true)] // Has_x itself throws on an ambiguous field (libbpf refuses its EXISTS relocation)
        [InlineData("Moved", "Plain", true, true)]    // Has_x says nothing about a plain read's offset
        [InlineData("Moved", "View", false, false)]
        [InlineData("Moved", "Unknown", false, false)]
        [InlineData("Ok", "Plain", false, false)]
        public void Problem_rule(string v, string a, bool guarded, bool problem)
            => Assert.Equal(problem, CompatResult.IsProblem(System.Enum.Parse<CompatVerdict>(v), System.Enum.Parse<CompatAccess>(a), guarded));
    }
}
