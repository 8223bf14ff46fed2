namespace BtfBindings.Cli
{
    /// <summary>bpftool's kind names.</summary>
    internal static class KindNames
    {
        public static string Upper(BtfKind kind) => (int)kind switch
        {
            0 => "UNKN", 1 => "INT", 2 => "PTR", 3 => "ARRAY", 4 => "STRUCT", 5 => "UNION", 6 => "ENUM", 7 => "FWD",
            8 => "TYPEDEF", 9 => "VOLATILE", 10 => "CONST", 11 => "RESTRICT", 12 => "FUNC", 13 => "FUNC_PROTO",
            14 => "VAR", 15 => "DATASEC", 16 => "FLOAT", 17 => "DECL_TAG", 18 => "TYPE_TAG", 19 => "ENUM64",
            _ => "UNKN",
        };

        public static string Lower(BtfKind kind) => Upper(kind).ToLowerInvariant();
    }
}
