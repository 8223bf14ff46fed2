[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("BtfBindings.Tests")]
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("btfgen")]
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("BtfBindings.Bench")]
