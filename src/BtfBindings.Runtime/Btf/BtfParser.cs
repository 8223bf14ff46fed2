using System;
using System.Buffers.Binary;

namespace BtfBindings
{
    public sealed partial class Btf
    {
        /// <summary>Validating parser: header, byte order, section bounds, then every type record, the rules of libbpf's <c>btf_parse</c> + <c>btf_sanity_check</c>.</summary>
        private sealed class Parser
        {
            private readonly byte[] _d;
            private readonly string _src;
            private readonly Btf? _base;
            private readonly long _srcOff;
            private int _typeStart, _typeEnd, _strStart, _strLen, _hdrLen;
            private byte[]? _layout;
            private bool _bigEndian;

            public Parser(byte[] data, string source, Btf? baseBtf, long sourceOffset)
            {
                _d = data; _src = source; _base = baseBtf; _srcOff = sourceOffset;
            }

            private BtfException Err(string msg, long offset, int? typeId = null)
                => new BtfException(msg, _src, _srcOff + offset, typeId);

            private uint U32(int off) => BinaryPrimitives.ReadUInt32LittleEndian(_d.AsSpan(off, 4));

            public Btf Run()
            {
                ParseHeader();
                if (_base != null && _base.IsBigEndian != _bigEndian)
                    throw Err($"split BTF is {(_bigEndian ? "big" : "little")}-endian but its base '{_base.SourceName}' is not", 0);
                if (_bigEndian) SwapToLittleEndian();
                ValidateStrings();

                int firstId = _base?.TypeCount ?? 1;
                int count = CountTypes();
                if ((long)firstId + count > 0x7FFFFFF0) throw Err($"too many types ({count})", 0);
                var offsets = new int[count];
                int off = _typeStart;
                for (int i = 0; i < count; i++)
                {
                    offsets[i] = off;
                    off += RecordSize(off, firstId + i);
                }

                var (ptrSize, known) = ValidateTypes(offsets, firstId);
                if (!known && _base != null && _base.PointerSizeKnown) { ptrSize = _base.PointerSize; known = true; }
                return new Btf(_d, _strStart, _strLen, offsets, _layout, _base, _src, _bigEndian, _hdrLen, ptrSize, known);
            }

            private void ParseHeader()
            {
                if (_d.Length < 24) throw Err($"truncated: {_d.Length} bytes is shorter than the 24-byte BTF header", 0);
                ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(_d);
                if (magic == BtfMagic) _bigEndian = false;
                else if (magic == 0x9FEB) _bigEndian = true;
                else throw Err($"bad magic 0x{magic:x4} (expected 0xeb9f in either byte order)", 0);

                uint Hdr(int o) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(_d.AsSpan(o, 4)) : BinaryPrimitives.ReadUInt32LittleEndian(_d.AsSpan(o, 4));
                if (_d[2] != 1) throw Err($"unsupported BTF version {_d[2]} (expected 1)", 2);
                if (_d[3] != 0) throw Err($"unsupported BTF header flags 0x{_d[3]:x2}", 3);
                uint hdrLen = Hdr(4);
                if (hdrLen < 24) throw Err($"header length {hdrLen} is smaller than 24", 4);
                if (hdrLen > (uint)_d.Length) throw Err($"header length {hdrLen} exceeds the data size {_d.Length}", 4);
                _hdrLen = (int)hdrLen;
                uint typeOff = Hdr(8), typeLen = Hdr(12), strOff = Hdr(16), strLen = Hdr(20);
                uint layoutOff = 0, layoutLen = 0;
                if (hdrLen >= 32) { layoutOff = Hdr(24); layoutLen = Hdr(28); }

                long metaLeft = _d.Length - (long)hdrLen;
                if ((long)strOff + strLen > metaLeft)
                    throw Err($"string section [{strOff}, +{strLen}) runs past the end of the data ({metaLeft} bytes after the header)", 16);
                if ((long)typeOff + typeLen > strOff)
                    throw Err($"type section [{typeOff}, +{typeLen}) overlaps the string section at {strOff}", 8);
                if (typeOff % 4 != 0) throw Err($"type section offset {typeOff} is not 4-byte aligned", 8);
                if (typeLen % 4 != 0) throw Err($"type section length {typeLen} is not a multiple of 4", 12);
                if (layoutLen != 0)
                {
                    if (layoutOff % 4 != 0) throw Err($"kind layout section offset {layoutOff} is not 4-byte aligned", 24);
                    if (layoutOff < (long)typeOff + typeLen) throw Err($"kind layout section at {layoutOff} overlaps the type section", 24);
                    if ((long)layoutOff + layoutLen > strOff) throw Err($"kind layout section [{layoutOff}, +{layoutLen}) overlaps the string section at {strOff}", 24);
                    if (layoutLen % 4 != 0) throw Err($"kind layout section length {layoutLen} is not a multiple of 4", 28);
                    _layout = new byte[layoutLen];
                    Buffer.BlockCopy(_d, (int)(hdrLen + layoutOff), _layout, 0, (int)layoutLen);
                    if (_bigEndian)
                        for (int i = 0; i < _layout.Length; i += 4) { var t = _layout[i + 2]; _layout[i + 2] = _layout[i + 3]; _layout[i + 3] = t; }
                }
                _typeStart = (int)(hdrLen + typeOff);
                _typeEnd = _typeStart + (int)typeLen;
                _strStart = (int)(hdrLen + strOff);
                _strLen = (int)strLen;
            }

            private void SwapToLittleEndian()
            {
                // Every BTF type record is made of 32-bit words, so swapping word by word is exact.
                for (int o = _typeStart; o < _typeEnd; o += 4)
                {
                    var t = _d[o]; _d[o] = _d[o + 3]; _d[o + 3] = t;
                    t = _d[o + 1]; _d[o + 1] = _d[o + 2]; _d[o + 2] = t;
                }
            }

            private void ValidateStrings()
            {
                if (_base != null && _strLen == 0) return;
                if (_strLen == 0) throw Err("empty string section", _strStart);
                if (_strLen - 1 > 0x7FFFFFFF - 1) throw Err("string section too large", _strStart);
                if (_d[_strStart + _strLen - 1] != 0) throw Err("string section is not NUL-terminated", _strStart + _strLen - 1);
                if (_base == null && _d[_strStart] != 0)
                    throw Err("string section does not start with an empty string; is this split BTF that needs its base (--base)?", _strStart);
            }

            private int CountTypes()
            {
                int count = 0;
                int off = _typeStart;
                int firstId = _base?.TypeCount ?? 1;
                while (off < _typeEnd)
                {
                    off += RecordSize(off, firstId + count);
                    count++;
                }
                return count;
            }

            /// <summary>Size in bytes of the record at <paramref name="off"/>, checked against the section end.</summary>
            private int RecordSize(int off, int id)
            {
                if (_typeEnd - off < TypeHeaderSize)
                    throw Err($"type record truncated: {_typeEnd - off} bytes left in the type section, need 12", off, id);
                uint info = U32(off + 4);
                int kind = (int)((info >> 24) & 0x7f);
                long vlen = info & 0xffffff;
                long size = TypeHeaderSize;
                switch ((BtfKind)kind)
                {
                    case BtfKind.Int: case BtfKind.Var: case BtfKind.DeclTag: size += 4; break;
                    case BtfKind.Ptr: case BtfKind.Fwd: case BtfKind.Typedef: case BtfKind.Volatile:
                    case BtfKind.Const: case BtfKind.Restrict: case BtfKind.Func: case BtfKind.Float:
                    case BtfKind.TypeTag: break;
                    case BtfKind.Array: size += 12; break;
                    case BtfKind.Struct: case BtfKind.Union: case BtfKind.DataSec: case BtfKind.Enum64: size += vlen * 12; break;
                    case BtfKind.Enum: case BtfKind.FuncProto: size += vlen * 8; break;
                    default:
                        size = UnknownKindSize(kind, vlen, off, id);
                        break;
                }
                if (size > _typeEnd - off)
                    throw Err($"{KindName(kind)} record with vlen {vlen} needs {size} bytes but only {_typeEnd - off} remain in the type section", off, id);
                return (int)size;
            }

            private long UnknownKindSize(int kind, long vlen, int off, int id)
            {
                var layout = _layout ?? _base?._kindLayout;
                if (layout == null || (kind + 1) * 4 > layout.Length)
                    throw Err($"unknown BTF kind {kind} and no kind layout section describes it", off, id);
                int infoSz = layout[kind * 4], elemSz = layout[kind * 4 + 1];
                if (infoSz % 4 != 0 || elemSz % 4 != 0)
                    throw Err($"kind layout for kind {kind} has unaligned sizes (info {infoSz}, element {elemSz})", off, id);
                return TypeHeaderSize + infoSz + vlen * elemSz;
            }

            private (int ptrSize, bool known) ValidateTypes(int[] offsets, int firstId)
            {
                int total = firstId + offsets.Length;
                long strEnd = (long)(_base?.StringsEnd ?? 0) + _strLen;
                int ptrSize = 0;
                for (int i = 0; i < offsets.Length; i++)
                {
                    int off = offsets[i], id = firstId + i;
                    uint info = U32(off + 4);
                    var kind = (BtfKind)((info >> 24) & 0x7f);
                    int vlen = (int)(info & 0xffffff);
                    CheckStr(U32(off), strEnd, "type name", off, id);
                    uint t = U32(off + 8);
                    switch (kind)
                    {
                        case BtfKind.Int:
                            if (ptrSize == 0 && (t == 4 || t == 8) && IsLongName(U32(off))) ptrSize = (int)t;
                            break;
                        case BtfKind.Ptr: case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const:
                        case BtfKind.Restrict: case BtfKind.Var: case BtfKind.DeclTag: case BtfKind.TypeTag:
                            CheckId(t, total, off + 8, id);
                            break;
                        case BtfKind.Array:
                            CheckId(U32(off + 12), total, off + 12, id);
                            CheckId(U32(off + 16), total, off + 16, id);
                            break;
                        case BtfKind.Struct: case BtfKind.Union:
                            for (int m = 0, mo = off + 12; m < vlen; m++, mo += 12)
                            {
                                CheckStr(U32(mo), strEnd, "member name", mo, id);
                                CheckId(U32(mo + 4), total, mo + 4, id);
                            }
                            break;
                        case BtfKind.Enum:
                            for (int m = 0, mo = off + 12; m < vlen; m++, mo += 8) CheckStr(U32(mo), strEnd, "enumerator name", mo, id);
                            break;
                        case BtfKind.Enum64:
                            for (int m = 0, mo = off + 12; m < vlen; m++, mo += 12) CheckStr(U32(mo), strEnd, "enumerator name", mo, id);
                            break;
                        case BtfKind.Func:
                            {
                                CheckId(t, total, off + 8, id);
                                var k = KindOf((int)t, offsets, firstId);
                                if (k != BtfKind.FuncProto)
                                    throw Err($"FUNC refers to type [{t}] which is {KindName((int)k)}, not FUNC_PROTO", off + 8, id);
                                break;
                            }
                        case BtfKind.FuncProto:
                            CheckId(t, total, off + 8, id);
                            for (int m = 0, mo = off + 12; m < vlen; m++, mo += 8)
                            {
                                CheckStr(U32(mo), strEnd, "parameter name", mo, id);
                                CheckId(U32(mo + 4), total, mo + 4, id);
                            }
                            break;
                        case BtfKind.DataSec:
                            for (int m = 0, mo = off + 12; m < vlen; m++, mo += 12) CheckId(U32(mo), total, mo, id);
                            break;
                    }
                }
                return ptrSize == 0 ? (8, false) : (ptrSize, true);
            }

            private BtfKind KindOf(int id, int[] offsets, int firstId)
            {
                if (id == 0) return BtfKind.Void;
                if (id < firstId) return _base![id].Kind;
                return (BtfKind)((U32(offsets[id - firstId] + 4) >> 24) & 0x7f);
            }

            private void CheckStr(uint strOff, long strEnd, string what, int at, int id)
            {
                if (strOff >= strEnd) throw Err($"{what} string offset {strOff} is outside the string section (length {strEnd})", at, id);
            }

            private void CheckId(uint refId, int total, int at, int id)
            {
                if (refId >= (uint)total) throw Err($"refers to type id {refId}, but the BTF has only {total} ids", at, id);
            }

            private static readonly string[] LongAliases =
            {
                "long", "long int", "int long", "unsigned long", "long unsigned", "unsigned long int",
                "unsigned int long", "long unsigned int", "long int unsigned", "int unsigned long", "int long unsigned",
            };

            private bool IsLongName(uint nameOff)
            {
                if (nameOff == 0) return false;
                var b = StringAt(nameOff);
                if (b.Length < 4 || b.Length > 17) return false;
                foreach (var a in LongAliases)
                {
                    if (a.Length != b.Length) continue;
                    bool eq = true;
                    for (int i = 0; i < a.Length && eq; i++) eq = a[i] == b[i];
                    if (eq) return true;
                }
                return false;
            }

            private ReadOnlySpan<byte> StringAt(uint off)
            {
                int baseEnd = _base?.StringsEnd ?? 0;
                if (off < (uint)baseEnd) return _base!.StringBytes(off);
                int local = (int)(off - (uint)baseEnd);
                var span = _d.AsSpan(_strStart + local, _strLen - local);
                int nul = span.IndexOf((byte)0);
                return nul < 0 ? span : span.Slice(0, nul);
            }
        }

        internal static string KindName(int kind) => kind switch
        {
            0 => "UNKN", 1 => "INT", 2 => "PTR", 3 => "ARRAY", 4 => "STRUCT", 5 => "UNION", 6 => "ENUM", 7 => "FWD",
            8 => "TYPEDEF", 9 => "VOLATILE", 10 => "CONST", 11 => "RESTRICT", 12 => "FUNC", 13 => "FUNC_PROTO",
            14 => "VAR", 15 => "DATASEC", 16 => "FLOAT", 17 => "DECL_TAG", 18 => "TYPE_TAG", 19 => "ENUM64",
            _ => "UNKN",
        };
    }
}
