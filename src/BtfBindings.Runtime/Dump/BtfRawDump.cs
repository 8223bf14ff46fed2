using System;
using System.Buffers;
using System.Buffers.Text;
using System.IO;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BtfBindings.Dump
{
    /// <summary>
    /// Prints BTF the way <c>bpftool btf dump file F format raw</c> does (bpftool 7.1), as text or as the
    /// JSON of <c>bpftool -j</c>. For split BTF only the split types are printed, like bpftool.
    /// </summary>
    internal static class BtfRawDump
    {
        /// <summary>Writes bpftool's text form of every type of <paramref name="btf"/> to <paramref name="output"/>.</summary>
        public static void WriteText(Btf btf, Stream output)
        {
            var w = new ByteWriter(output);
            for (int id = btf.FirstTypeId; id < btf.TypeCount; id++) WriteTextType(btf[id], w);
            w.Flush();
        }

        private static void WriteTextType(BtfType t, ByteWriter w)
        {
            var btf = t.Btf;
            w.Ascii("["); w.Num(t.Id); w.Ascii("] "); w.Ascii(BtfKinds.Name(t.Kind)); w.Ascii(" '"); w.Name(t.NameOffset, t.NameUtf8); w.Ascii("'");
            switch (BtfKinds.Of(t.Kind)?.Dump ?? BtfDumpForm.None)
            {
                case BtfDumpForm.Int:
                    w.Ascii(" size="); w.Num(t.Size); w.Ascii(" bits_offset="); w.Num(t.IntBitOffset);
                    w.Ascii(" nr_bits="); w.Num(t.IntBits); w.Ascii(" encoding="); w.Ascii(IntEncoding(t));
                    break;
                case BtfDumpForm.TypeId:
                    w.Ascii(" type_id="); w.Num(t.TypeId);
                    break;
                case BtfDumpForm.Array:
                    w.Ascii(" type_id="); w.Num(t.ArrayElementTypeId); w.Ascii(" index_type_id="); w.Num(t.ArrayIndexTypeId);
                    w.Ascii(" nr_elems="); w.Num(t.ArrayLength);
                    break;
                case BtfDumpForm.Members:
                    w.Ascii(" size="); w.Num(t.Size); w.Ascii(" vlen="); w.Num(t.Vlen);
                    for (int i = 0; i < t.Vlen; i++)
                    {
                        var m = t.GetMember(i);
                        w.Ascii("\n\t'"); w.Name(m.NameOffset, btf.StringBytes(m.NameOffset)); w.Ascii("' type_id="); w.Num(m.TypeId);
                        w.Ascii(" bits_offset="); w.Num(m.BitOffset);
                        if (m.BitfieldSize != 0) { w.Ascii(" bitfield_size="); w.Num(m.BitfieldSize); }
                    }
                    break;
                case BtfDumpForm.Enum:
                    {
                        bool e64 = t.Kind == BtfKind.Enum64;
                        w.Ascii(" encoding="); w.Ascii(t.KindFlag ? "SIGNED" : "UNSIGNED");
                        w.Ascii(" size="); w.Num(t.Size); w.Ascii(" vlen="); w.Num(t.Vlen);
                        for (int i = 0; i < t.Vlen; i++)
                        {
                            var v = t.GetEnumValue(i);
                            w.Ascii("\n\t'"); w.Name(v.NameOffset, btf.StringBytes(v.NameOffset)); w.Ascii("' val=");
                            if (t.KindFlag) w.Num(e64 ? v.SignedValue : (int)v.RawValue);
                            else w.Num(e64 ? v.RawValue : (uint)v.RawValue);
                            if (e64) w.Ascii(t.KindFlag ? "LL" : "ULL");
                        }
                        break;
                    }
                case BtfDumpForm.Fwd:
                    w.Ascii(" fwd_kind="); w.Ascii(t.KindFlag ? "union" : "struct");
                    break;
                case BtfDumpForm.Func:
                    w.Ascii(" type_id="); w.Num(t.TypeId); w.Ascii(" linkage="); w.Ascii(Linkage(t.Vlen));
                    break;
                case BtfDumpForm.FuncProto:
                    w.Ascii(" ret_type_id="); w.Num(t.TypeId); w.Ascii(" vlen="); w.Num(t.Vlen);
                    for (int i = 0; i < t.Vlen; i++)
                    {
                        var p = t.GetParam(i);
                        w.Ascii("\n\t'"); w.Name(p.NameOffset, btf.StringBytes(p.NameOffset)); w.Ascii("' type_id="); w.Num(p.TypeId);
                    }
                    break;
                case BtfDumpForm.Var:
                    w.Ascii(" type_id="); w.Num(t.TypeId); w.Ascii(", linkage="); w.Ascii(Linkage((int)t.Linkage));
                    break;
                case BtfDumpForm.DataSec:
                    w.Ascii(" size="); w.Num(t.Size); w.Ascii(" vlen="); w.Num(t.Vlen);
                    for (int i = 0; i < t.Vlen; i++)
                    {
                        var v = t.GetVarSecInfo(i);
                        w.Ascii("\n\ttype_id="); w.Num(v.TypeId); w.Ascii(" offset="); w.Num(v.Offset); w.Ascii(" size="); w.Num(v.Size);
                        var vt = btf[v.TypeId];
                        w.Ascii(" ("); w.Ascii(BtfKinds.Name(vt.Kind)); w.Ascii(" '"); w.Name(vt.NameOffset, vt.NameUtf8); w.Ascii("')");
                    }
                    break;
                case BtfDumpForm.Size:
                    w.Ascii(" size="); w.Num(t.Size);
                    break;
                case BtfDumpForm.DeclTag:
                    w.Ascii(" type_id="); w.Num(t.TypeId); w.Ascii(" component_idx="); w.Num(t.ComponentIndex);
                    break;
            }
            w.Ascii("\n");
        }

        /// <summary>Writes bpftool's <c>-j</c> JSON form (<c>{"types":[…]}</c>) of every type of <paramref name="btf"/>.</summary>
        public static void WriteJson(Btf btf, Stream output, bool indented = false)
        {
            using var j = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
            j.WriteStartObject();
            j.WriteStartArray("types");
            for (int id = btf.FirstTypeId; id < btf.TypeCount; id++) WriteJsonType(btf[id], j);
            j.WriteEndArray();
            j.WriteEndObject();
        }

        private static void WriteJsonType(BtfType t, Utf8JsonWriter j)
        {
            var btf = t.Btf;
            j.WriteStartObject();
            j.WriteNumber("id", t.Id);
            j.WriteString("kind", BtfKinds.Name(t.Kind));
            JName(j, "name", t.NameOffset, t.NameUtf8);
            switch (BtfKinds.Of(t.Kind)?.Dump ?? BtfDumpForm.None)
            {
                case BtfDumpForm.Int:
                    j.WriteNumber("size", t.Size); j.WriteNumber("bits_offset", t.IntBitOffset);
                    j.WriteNumber("nr_bits", t.IntBits); j.WriteString("encoding", IntEncoding(t));
                    break;
                case BtfDumpForm.TypeId:
                    j.WriteNumber("type_id", t.TypeId);
                    break;
                case BtfDumpForm.Array:
                    j.WriteNumber("type_id", t.ArrayElementTypeId); j.WriteNumber("index_type_id", t.ArrayIndexTypeId);
                    j.WriteNumber("nr_elems", t.ArrayLength);
                    break;
                case BtfDumpForm.Members:
                    j.WriteNumber("size", t.Size); j.WriteNumber("vlen", t.Vlen);
                    j.WriteStartArray("members");
                    for (int i = 0; i < t.Vlen; i++)
                    {
                        var m = t.GetMember(i);
                        j.WriteStartObject();
                        JName(j, "name", m.NameOffset, btf.StringBytes(m.NameOffset));
                        j.WriteNumber("type_id", m.TypeId); j.WriteNumber("bits_offset", m.BitOffset);
                        if (m.BitfieldSize != 0) j.WriteNumber("bitfield_size", m.BitfieldSize);
                        j.WriteEndObject();
                    }
                    j.WriteEndArray();
                    break;
                case BtfDumpForm.Enum:
                    {
                        bool e64 = t.Kind == BtfKind.Enum64;
                        j.WriteString("encoding", t.KindFlag ? "SIGNED" : "UNSIGNED");
                        j.WriteNumber("size", t.Size); j.WriteNumber("vlen", t.Vlen);
                        j.WriteStartArray("values");
                        for (int i = 0; i < t.Vlen; i++)
                        {
                            var v = t.GetEnumValue(i);
                            j.WriteStartObject();
                            JName(j, "name", v.NameOffset, btf.StringBytes(v.NameOffset));
                            if (t.KindFlag) j.WriteNumber("val", e64 ? v.SignedValue : (int)v.RawValue);
                            // bpftool passes the s32 value to a u64 writer: unsigned 32-bit values with the top bit
                            // set come out sign-extended (4026531839 -> 18446744073441116159). Reproduced for equality.
                            else j.WriteNumber("val", e64 ? v.RawValue : (ulong)(long)(int)(uint)v.RawValue);
                            j.WriteEndObject();
                        }
                        j.WriteEndArray();
                        break;
                    }
                case BtfDumpForm.Fwd:
                    j.WriteString("fwd_kind", t.KindFlag ? "union" : "struct");
                    break;
                case BtfDumpForm.Func:
                    j.WriteNumber("type_id", t.TypeId); j.WriteString("linkage", Linkage(t.Vlen));
                    break;
                case BtfDumpForm.FuncProto:
                    j.WriteNumber("ret_type_id", t.TypeId); j.WriteNumber("vlen", t.Vlen);
                    j.WriteStartArray("params");
                    for (int i = 0; i < t.Vlen; i++)
                    {
                        var p = t.GetParam(i);
                        j.WriteStartObject();
                        JName(j, "name", p.NameOffset, btf.StringBytes(p.NameOffset));
                        j.WriteNumber("type_id", p.TypeId);
                        j.WriteEndObject();
                    }
                    j.WriteEndArray();
                    break;
                case BtfDumpForm.Var:
                    j.WriteNumber("type_id", t.TypeId); j.WriteString("linkage", Linkage((int)t.Linkage));
                    break;
                case BtfDumpForm.DataSec:
                    j.WriteNumber("size", t.Size); j.WriteNumber("vlen", t.Vlen);
                    j.WriteStartArray("vars");
                    for (int i = 0; i < t.Vlen; i++)
                    {
                        var v = t.GetVarSecInfo(i);
                        j.WriteStartObject();
                        j.WriteNumber("type_id", v.TypeId); j.WriteNumber("offset", v.Offset); j.WriteNumber("size", v.Size);
                        j.WriteEndObject();
                    }
                    j.WriteEndArray();
                    break;
                case BtfDumpForm.Size:
                    j.WriteNumber("size", t.Size);
                    break;
                case BtfDumpForm.DeclTag:
                    j.WriteNumber("type_id", t.TypeId); j.WriteNumber("component_idx", t.ComponentIndex);
                    break;
            }
            j.WriteEndObject();
        }

        private static readonly byte[] Anon = { (byte)'(', (byte)'a', (byte)'n', (byte)'o', (byte)'n', (byte)')' };

        // bpftool prints "(anon)" for name offset 0 only; an empty string elsewhere prints as ''.
        private static void JName(Utf8JsonWriter j, string prop, uint offset, ReadOnlySpan<byte> name)
            => j.WriteString(prop, offset == 0 ? Anon : name);

        private static string IntEncoding(BtfType t) => (int)t.IntEncoding switch
        {
            0 => "(none)", 1 => "SIGNED", 2 => "CHAR", 4 => "BOOL", _ => "UNKN",
        };

        private static string Linkage(int l) => l switch { 0 => "static", 1 => "global", 2 => "extern", _ => "(unknown)" };

        /// <summary>Buffered writer of ASCII text and raw name bytes (bpftool prints names byte for byte).</summary>
        private sealed class ByteWriter
        {
            private readonly Stream _out;
            private readonly byte[] _buf = new byte[1 << 16];
            private int _len;
            public ByteWriter(Stream output) { _out = output; }

            private void Ensure(int n)
            {
                if (_len + n > _buf.Length) Flush();
            }

            public void Ascii(string s)
            {
                if (s.Length > _buf.Length - _len) Flush();
                for (int i = 0; i < s.Length; i++) _buf[_len++] = (byte)s[i];
            }

            public void Name(uint offset, ReadOnlySpan<byte> name)
            {
                if (offset == 0) { Ascii("(anon)"); return; }
                if (name.Length > _buf.Length - _len) { Flush(); if (name.Length > _buf.Length) { _out.Write(name.ToArray(), 0, name.Length); return; } }
                name.CopyTo(_buf.AsSpan(_len)); _len += name.Length;
            }

            public void Num(long v) { Ensure(24); Utf8Formatter.TryFormat(v, _buf.AsSpan(_len), out int n); _len += n; }
            public void Num(ulong v) { Ensure(24); Utf8Formatter.TryFormat(v, _buf.AsSpan(_len), out int n); _len += n; }
            public void Num(int v) => Num((long)v);
            public void Num(uint v) => Num((ulong)v);

            public void Flush() { _out.Write(_buf, 0, _len); _len = 0; }
        }
    }
}
