using System;
using System.Buffers.Binary;
using System.Threading;

namespace BtfBindings
{
    sealed partial class Btf
    {
        /// <summary>Validating parser: header, byte order, section bounds, then every type record, the rules of libbpf's <c>btf_parse</c> + <c>btf_sanity_check</c>.</summary>
        private sealed class Parser
        {
            private readonly byte[] _d;
            private readonly int _len; // bytes of _d that hold the blob (a pooled array may be longer)
            private readonly string _src;
            private readonly Btf? _base;
            private readonly long _srcOff;
            private int _typeStart, _typeEnd, _strStart, _strLen, _hdrLen;
            private byte[]? _layout;
            private bool _bigEndian;

            private readonly int _givenPointerSize;
#if NET
            private readonly bool _ownsData; // _d came from the buffer pool: Btf.Dispose gives it back
#else
            private const bool _ownsData = false;
#endif

            public Parser(byte[] data, string source, Btf? baseBtf, long sourceOffset, int pointerSize)
            {
                _d = data; _len = data.Length; _src = source; _base = baseBtf; _srcOff = sourceOffset; _givenPointerSize = pointerSize;
            }

#if NET
            // Streaming: _d is the file's size and is filled while parsing. The walking thread reads the type section
            // just ahead of itself while the validating thread reads the string section, so reading overlaps parsing.
            private Microsoft.Win32.SafeHandles.SafeFileHandle? _file;
            private BtfException? _tailError;   // the string section, read and checked by the validating thread
            private volatile bool _tailReady;
            private int _tailClaimed;           // 1 once a thread has taken the tail read: the helper, or the walker if the helper never started
            private const int ReadBlock = 256 * 1024;

            public Parser(Microsoft.Win32.SafeHandles.SafeFileHandle file, byte[] data, int length, string source, Btf? baseBtf)
                : this(data, source, baseBtf, 0, 0) { _file = file; _len = length; _ownsData = true; }

            private void ReadAt(int offset, int count)
            {
                while (count > 0)
                {
                    int n;
                    try { n = System.IO.RandomAccess.Read(_file!, _d.AsSpan(offset, count), offset); }
                    catch (System.IO.IOException e) { throw new BtfException("read failed: " + e.Message, _src, offset, inner: e); }
                    if (n <= 0) throw Err("unexpected end of file (was it truncated while being read?)", offset);
                    offset += n; count -= n;
                }
            }

            /// <summary>Reads the type section on from <paramref name="readEnd"/> until at least <paramref name="need"/>; returns the new end.</summary>
            private int ReadMore(int readEnd, int need)
            {
                while (readEnd < need)
                {
                    int n = Math.Min(ReadBlock, _typeEnd - readEnd);
                    ReadAt(readEnd, n);
                    readEnd += n;
                }
                return readEnd;
            }

            /// <summary>On the validating thread: everything after the type section (the string section), then its checks.</summary>
            private void ReadTail()
            {
                try { ReadAt(_typeEnd, _len - _typeEnd); ValidateStrings(); }
                catch (BtfException e) { _tailError = e; }
                finally { _tailReady = true; } // whatever happened, nobody waits forever
            }

            /// <summary>Reads the tail unless another thread has already taken it; then waits until it is read.</summary>
            private void EnsureTail()
            {
                if (Interlocked.CompareExchange(ref _tailClaimed, 1, 0) == 0) { ReadTail(); return; }
                var spin = new SpinWait();
                while (!_tailReady) SharedWork.Pause(ref spin); // the claimant is running and reading
            }

            private void WaitForTail(Walk w)
            {
                // If the helper has not started yet, the walker reads the tail itself rather than wait for it.
                EnsureTail();
                if (_tailError != null) { Volatile.Write(ref w.Abort, true); throw _tailError; }
            }
#else
            private const object? _file = null;
            private int ReadMore(int readEnd, int need) => readEnd;
#endif

            private BtfException Err(string msg, long offset, int? typeId = null)
                => new BtfException(msg, _src, _srcOff + offset, typeId);

            private uint U32(int off) => BinaryPrimitives.ReadUInt32LittleEndian(_d.AsSpan(off, 4));

            public Btf Run()
            {
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("BtfBindings reads BTF on little-endian hosts only");
#if NET
                if (_file != null) ReadAt(0, Math.Min(_len, 32));
#endif
                ParseHeader();
                if (_base != null && _base.IsBigEndian != _bigEndian)
                    throw Err($"split BTF is {(_bigEndian ? "big" : "little")}-endian but its base '{_base.SourceName}' is not", 0);
#if NET
                if (_file != null)
                {
                    // Overlapping reads with parsing pays only on the two-thread path; otherwise read everything now.
                    if (_bigEndian || !Parallel) { ReadAt(32, _len - 32); _file = null; }
                    else ReadAt(32, _typeStart - 32);
                }
#endif
                if (_bigEndian) SwapToLittleEndian();
                if (_file == null) ValidateStrings();

                int firstId = _base?.TypeCount ?? 1;
                // Pass 1 walks the records (offsets, kinds); pass 2 validates them (strings, ids, FUNC targets, the pointer
                // size) and hashes data types' names. Pass 2 follows pass 1 on a second thread for large inputs.
                var pool = System.Buffers.ArrayPool<int>.Shared;
                int maxRecords = (_typeEnd - _typeStart) / TypeHeaderSize + 1;
                var offsTmp = pool.Rent(maxRecords);
                var kindsTmp = System.Buffers.ArrayPool<byte>.Shared.Rent(maxRecords);
                var hashTmp = System.Buffers.ArrayPool<uint>.Shared.Rent(maxRecords);
                var namedTmp = pool.Rent(maxRecords);
                var chunkNamedTmp = pool.Rent(maxRecords / ChunkRecords + 1);
                int[] offsets;
                byte[] kinds;
                NameIndex index;
                Acc acc;
                int count;
                try
                {
                    var walk = new Walk(offsTmp, kindsTmp, hashTmp, namedTmp, chunkNamedTmp, firstId);
                    acc = WalkAndValidate(walk);
                    offsets = walk.Offsets!;
                    kinds = walk.Kinds!;
                    count = walk.Count;
                    if (acc.Error != null) throw acc.Error;
                    if (acc.MaxRef >= (uint)(firstId + count)) LocateBadId(offsets, count, firstId);
                    foreach (int i in walk.DeferredFuncs) CheckFunc(offsTmp[i], firstId + i, (int)U32(offsTmp[i] + 8), kinds, count, firstId);
                    index = NameIndex.FromChunks(hashTmp, namedTmp, chunkNamedTmp, (count + ChunkRecords - 1) / ChunkRecords, ChunkRecords, firstId);
                }
                finally
                {
                    pool.Return(offsTmp);
                    System.Buffers.ArrayPool<byte>.Shared.Return(kindsTmp);
                    System.Buffers.ArrayPool<uint>.Shared.Return(hashTmp);
                    pool.Return(namedTmp);
                    pool.Return(chunkNamedTmp);
                }

                int ptrSize = acc.PtrSize;
                if (_givenPointerSize != 0) ptrSize = _givenPointerSize;
                bool known = ptrSize != 0;
                if (!known) ptrSize = 8;
                if (!known && _base != null && _base.PointerSizeKnown) { ptrSize = _base.PointerSize; known = true; }
                return new Btf(_d, _ownsData, _strStart, _strLen, offsets, kinds, count, index, _layout, _base, _src, _bigEndian, _hdrLen, ptrSize, known);
            }

            // Record size per kind, as 2-bit codes c (bytes = 4c) packed per kind into two constants, so the walk's
            // record-to-record dependency chain is shifts and a multiply, with no table load: bytes after the 12-byte
            // header (0, 4 or 12) and bytes per vlen element (0, 8 or 12). Kinds 1..19 are known; others go through
            // the kind layout section. These are the kind table's sizes (BtfKinds.PackedSizeCodes, KnownKindMask),
            // written out as constants for speed; a test (BtfKindTableTests) checks they are equal.
            private const ulong FixedCodes = 1UL << 2 | 3UL << 6 | 1UL << 28 | 1UL << 34;                       // INT, ARRAY; VAR, DECL_TAG
            private const ulong ElemCodes = 3UL << 8 | 3UL << 10 | 2UL << 12 | 2UL << 26 | 3UL << 30 | 3UL << 38; // STRUCT, UNION, ENUM, FUNC_PROTO, DATASEC, ENUM64
            private const uint KnownKinds = 0xFFFFEu; // 1..19

            /// <summary>State shared by the walking thread and the validating threads.</summary>
            private sealed class Walk
            {
                public readonly int[] Offs; public readonly byte[] Kinds0; public readonly uint[] Hashes; public readonly int FirstId;
                public readonly int[] NamedAt, ChunkNamed; // per chunk, the records whose names were hashed (for the index)
                public int Walked;            // records walked so far (published every chunk)
                public int Count = -1;        // final record count, once the walk is complete
                public bool Abort;            // the walk failed: validators stop
                public int NextChunk;         // next chunk to validate
                public int ErrorChunk = int.MaxValue; // lowest chunk that failed validation: later chunks need not run
                public int[]? Offsets; public byte[]? Kinds; // exact-size copies, made by the walker while validation runs
                public readonly System.Collections.Generic.List<int> DeferredFuncs = new System.Collections.Generic.List<int>();
                public Walk(int[] offs, byte[] kinds, uint[] hashes, int[] namedAt, int[] chunkNamed, int firstId)
                { Offs = offs; Kinds0 = kinds; Hashes = hashes; NamedAt = namedAt; ChunkNamed = chunkNamed; FirstId = firstId; }
            }

            /// <summary>What validation found: largest referenced id, the pointer size from the first <c>long</c>, names, the first error.</summary>
            private struct Acc
            {
                public uint MaxRef; public int PtrId, PtrSize, Named; public BtfException? Error; public int ErrorId;

                public void Merge(in Acc o)
                {
                    if (o.MaxRef > MaxRef) MaxRef = o.MaxRef;
                    if (o.PtrId != 0 && (PtrId == 0 || o.PtrId < PtrId)) { PtrId = o.PtrId; PtrSize = o.PtrSize; }
                    Named += o.Named;
                    if (o.Error != null && (Error == null || o.ErrorId < ErrorId)) { Error = o.Error; ErrorId = o.ErrorId; }
                }
            }

            private const int ChunkRecords = 4096;
            private const long SymbolKinds = (1L << (int)BtfKind.Func) | (1L << (int)BtfKind.Var) | (1L << (int)BtfKind.DataSec) | (1L << (int)BtfKind.DeclTag);

            private bool Parallel => _typeEnd - _typeStart >= (1 << 20) && Environment.ProcessorCount >= 2;

            private Acc WalkAndValidate(Walk w)
            {
                if (!Parallel)
                {
                    int n = WalkRecords(w);
                    FinishWalk(w, n);
                    var one = new Acc();
                    ValidateChunks(w, ref one);
                    return one;
                }
#if NET
                bool streaming = _file != null;
#endif
                var other = new Acc();
                var helper = new SharedWork(() =>
                {
#if NET
                    if (streaming) { EnsureTail(); if (_tailError != null) return; }
#endif
                    ValidateChunks(w, ref other);
                });
                try
                {
                    int n = WalkRecords(w);
                    FinishWalk(w, n);
                }
                catch
                {
                    Volatile.Write(ref w.Abort, true);
                    try { helper.Join(); } catch (BtfException) { }
#if NET
                    if (_tailError != null) throw _tailError; // string section errors come first, as without streaming
#endif
                    throw;
                }
#if NET
                if (streaming) WaitForTail(w);
#endif
                var mine = new Acc();
                ValidateChunks(w, ref mine);
                helper.Join();
                mine.Merge(other);
                return mine;
            }

            private static void FinishWalk(Walk w, int n)
            {
                Volatile.Write(ref w.Count, n);
                Volatile.Write(ref w.Walked, n);
                w.Offsets = BufferPool<int>.Rent(n, n / 8, clear: false);
                w.Kinds = BufferPool<byte>.Rent(n, n / 8, clear: false);
                Array.Copy(w.Offs, w.Offsets, n);
                Array.Copy(w.Kinds0, w.Kinds, n);
            }

            /// <summary>Pass 1 (sequential by nature: each record's size gives the next one's offset): offsets and kinds.</summary>
            private unsafe int WalkRecords(Walk w)
            {
                int n = 0;
                int off = _typeStart, end = _typeEnd;
                int[] offs = w.Offs;
                byte[] kinds = w.Kinds0;
                int readEnd = _file != null ? _typeStart : end; // streaming: a record is read in full before it counts as walked
                fixed (byte* p = _d)
                {
                    while (off < end)
                    {
                        if (end - off < TypeHeaderSize)
                            throw Err($"type record truncated: {end - off} bytes left in the type section, need 12", off, w.FirstId + n);
                        if (off + TypeHeaderSize > readEnd) readEnd = ReadMore(readEnd, off + TypeHeaderSize);
                        uint info = *(uint*)(p + off + 4);
                        int kind = (int)((info >> 24) & 0x7f);
                        int vlen = (int)(info & 0xffffff);
                        long size;
                        if (kind < 32 && ((KnownKinds >> kind) & 1) != 0)
                            size = TypeHeaderSize + 4 * (long)((int)(FixedCodes >> (2 * kind)) & 3) + 4 * (long)vlen * ((int)(ElemCodes >> (2 * kind)) & 3);
                        else size = UnknownKindSize(kind, vlen, off, w.FirstId + n);
                        if (size > end - off)
                            throw Err($"{BtfKinds.Name(kind)} record with vlen {vlen} needs {size} bytes but only {end - off} remain in the type section", off, w.FirstId + n);
                        if (off + size > readEnd) readEnd = ReadMore(readEnd, off + (int)size);
                        offs[n] = off;
                        kinds[n] = (byte)kind;
                        n++;
                        off += (int)size;
                        if ((n & (ChunkRecords - 1)) == 0) Volatile.Write(ref w.Walked, n);
                    }
                }
                return n;
            }

            /// <summary>Pass 2 over chunks of walked records, claimed in increasing order by each validating thread.</summary>
            private void ValidateChunks(Walk w, ref Acc acc)
            {
                var spin = new SpinWait();
                while (true)
                {
                    int c = Interlocked.Increment(ref w.NextChunk) - 1;
                    if (c > Volatile.Read(ref w.ErrorChunk)) return;
                    long from = (long)c * ChunkRecords;
                    int to;
                    while (true)
                    {
                        if (Volatile.Read(ref w.Abort)) return;
                        int count = Volatile.Read(ref w.Count);
                        if (count >= 0) { if (from >= count) return; to = (int)Math.Min(from + ChunkRecords, count); break; }
                        if (Volatile.Read(ref w.Walked) >= from + ChunkRecords) { to = (int)(from + ChunkRecords); break; }
                        SharedWork.Pause(ref spin); // the walker is running and only microseconds ahead
                    }
                    try { ValidateRange(w, (int)from, to, ref acc); }
                    catch (BtfException e)
                    {
                        var mine = new Acc { Error = e, ErrorId = e.TypeId ?? w.FirstId + (int)from };
                        acc.Merge(mine);
                        int seen;
                        while ((seen = Volatile.Read(ref w.ErrorChunk)) > c && Interlocked.CompareExchange(ref w.ErrorChunk, c, seen) != seen) { }
                        return; // this thread's later chunks hold only larger ids
                    }
                }
            }

            private unsafe void ValidateRange(Walk w, int from, int to, ref Acc acc)
            {
                int firstId = w.FirstId;
                int[] offs = w.Offs;
                byte[] kinds = w.Kinds0;
                uint[] hashes = w.Hashes;
                int[] namedAt = w.NamedAt;
                int named = 0;
                uint strEnd = (uint)((_base?.StringsEnd ?? 0) + _strLen);
                uint baseStrEnd = (uint)(_base?.StringsEnd ?? 0);
                uint mref = acc.MaxRef;
                // Records below this index have been walked, so a FUNC's target kind can be checked now (targets are nearly always earlier).
                int walked = Volatile.Read(ref w.Walked);
                fixed (byte* p = _d)
                {
                    byte* strs = p + _strStart - baseStrEnd; // strs + nameOff addresses local strings
                    byte* strLimit = p + _strStart + _strLen;
                    for (int n = from; n < to; n++)
                    {
                        int id = firstId + n;
                        int off = offs[n];
                        uint* rec = (uint*)(p + off);
                        int vlen = (int)(rec[1] & 0xffffff);
                        uint nameOff = rec[0];
                        int kind = kinds[n];
                        if (nameOff >= strEnd) BadStr("type name", nameOff, strEnd, off, id);
                        // Data types' names are indexed now; functions', variables', sections' and tags' on first lookup.
                        // One branch, on a condition computed without branches (named-or-not alternates unpredictably).
                        bool index = (nameOff != 0) & (kind >= 32 | ((SymbolKinds >> (kind & 31)) & 1) == 0);
                        if (index)
                        {
                            hashes[n] = nameOff >= baseStrEnd ? NameIndex.HashZ(strs + nameOff, strLimit) : NameIndex.Hash(_base!.StringBytes(nameOff));
                            namedAt[from + named] = n;
                            named++;
                        }
                        uint t = rec[2];
                        switch ((BtfKind)kind)
                        {
                            case BtfKind.Int:
                                if (acc.PtrId == 0 && (t == 4 || t == 8) && nameOff != 0 && IsLongName(nameOff)) { acc.PtrId = id; acc.PtrSize = (int)t; }
                                break;
                            case BtfKind.Func:
                                if (t > mref) mref = t;
                                // Inline test for the usual case (a FUNC_PROTO defined here and already walked); the call only for the rest.
                                if (t >= (uint)firstId && t - (uint)firstId < (uint)walked) { if (kinds[t - (uint)firstId] != (byte)BtfKind.FuncProto) CheckFunc(off, id, (int)t, kinds, walked, firstId); }
                                else if (t < (uint)firstId) CheckFunc(off, id, (int)t, kinds, walked, firstId);
                                else lock (w.DeferredFuncs) w.DeferredFuncs.Add(n);
                                break;
                            case BtfKind.Ptr: case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict:
                            case BtfKind.Var: case BtfKind.DeclTag: case BtfKind.TypeTag:
                                if (t > mref) mref = t;
                                break;
                            case BtfKind.Array:
                                if (rec[3] > mref) mref = rec[3];
                                if (rec[4] > mref) mref = rec[4];
                                break;
                            case BtfKind.Struct: case BtfKind.Union:
                                for (int m = 0; m < vlen; m++)
                                {
                                    uint* mw = rec + 3 + m * 3;
                                    if (mw[0] >= strEnd) BadStr("member name", mw[0], strEnd, off + 12 + m * 12, id);
                                    if (mw[1] > mref) mref = mw[1];
                                }
                                break;
                            case BtfKind.Enum:
                                for (int m = 0; m < vlen; m++)
                                    if (rec[3 + m * 2] >= strEnd) BadStr("enumerator name", rec[3 + m * 2], strEnd, off + 12 + m * 8, id);
                                break;
                            case BtfKind.Enum64:
                                for (int m = 0; m < vlen; m++)
                                    if (rec[3 + m * 3] >= strEnd) BadStr("enumerator name", rec[3 + m * 3], strEnd, off + 12 + m * 12, id);
                                break;
                            case BtfKind.FuncProto:
                                if (t > mref) mref = t;
                                for (int m = 0; m < vlen; m++)
                                {
                                    uint* mw = rec + 3 + m * 2;
                                    if (mw[0] >= strEnd) BadStr("parameter name", mw[0], strEnd, off + 12 + m * 8, id);
                                    if (mw[1] > mref) mref = mw[1];
                                }
                                break;
                            case BtfKind.DataSec:
                                for (int m = 0; m < vlen; m++)
                                    if (rec[3 + m * 3] > mref) mref = rec[3 + m * 3];
                                break;
                        }
                    }
                }
                acc.MaxRef = mref;
                acc.Named += named;
                w.ChunkNamed[from / ChunkRecords] = named;
            }

            /// <summary>libbpf's rule: a FUNC's type is a FUNC_PROTO. Targets out of range are reported by the id check instead.</summary>
            private void CheckFunc(int off, int id, int target, byte[] kinds, int kindCount, int firstId)
            {
                BtfKind k;
                if (target == 0) k = BtfKind.Void;
                else if (target < firstId) k = _base![target].Kind;
                else if (target - firstId < kindCount) k = (BtfKind)kinds[target - firstId];
                else return;
                if (k != BtfKind.FuncProto)
                    throw Err($"FUNC refers to type [{target}] which is {BtfKinds.Name(k)}, not FUNC_PROTO", off + 8, id);
            }

            /// <summary>Slow path after the walk found an out-of-range reference: find the first one for the message.</summary>
            private void LocateBadId(int[] offsets, int count, int firstId)
            {
                uint total = (uint)(firstId + count);
                for (int i = 0; i < count; i++)
                {
                    int off = offsets[i];
                    uint info = U32(off + 4);
                    var kind = (BtfKind)((info >> 24) & 0x7f);
                    int vlen = (int)(info & 0xffffff);
                    void Check(int at) { uint r = U32(at); if (r >= total) BadId(r, total, at, firstId + i); }
                    switch (kind)
                    {
                        case BtfKind.Ptr: case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict:
                        case BtfKind.Var: case BtfKind.DeclTag: case BtfKind.TypeTag: case BtfKind.Func: case BtfKind.FuncProto:
                            Check(off + 8);
                            if (kind == BtfKind.FuncProto) for (int m = 0; m < vlen; m++) Check(off + 16 + m * 8);
                            break;
                        case BtfKind.Array: Check(off + 12); Check(off + 16); break;
                        case BtfKind.Struct: case BtfKind.Union: for (int m = 0; m < vlen; m++) Check(off + 16 + m * 12); break;
                        case BtfKind.DataSec: for (int m = 0; m < vlen; m++) Check(off + 12 + m * 12); break;
                    }
                }
                throw Err("refers to a type id out of range", 0);
            }

            private void ParseHeader()
            {
                if (_len < 24) throw Err($"truncated: {_len} bytes is shorter than the 24-byte BTF header", 0);
                ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(_d);
                if (magic == BtfMagic) _bigEndian = false;
                else if (magic == 0x9FEB) _bigEndian = true;
                else throw Err($"bad magic 0x{magic:x4} (expected 0xeb9f in either byte order)", 0);

                uint Hdr(int o) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(_d.AsSpan(o, 4)) : BinaryPrimitives.ReadUInt32LittleEndian(_d.AsSpan(o, 4));
                if (_d[2] != 1) throw Err($"unsupported BTF version {_d[2]} (expected 1)", 2);
                if (_d[3] != 0) throw Err($"unsupported BTF header flags 0x{_d[3]:x2}", 3);
                uint hdrLen = Hdr(4);
                if (hdrLen < 24) throw Err($"header length {hdrLen} is smaller than 24", 4);
                if (hdrLen > (uint)_len) throw Err($"header length {hdrLen} exceeds the data size {_len}", 4);
                _hdrLen = (int)hdrLen;
                uint typeOff = Hdr(8), typeLen = Hdr(12), strOff = Hdr(16), strLen = Hdr(20);
                uint layoutOff = 0, layoutLen = 0;
                if (hdrLen >= 32) { layoutOff = Hdr(24); layoutLen = Hdr(28); }

                long metaLeft = _len - (long)hdrLen;
                if ((long)strOff + strLen > metaLeft)
                    throw Err($"truncated raw BTF: the string section [{strOff}, +{strLen}) runs past the end of the data ({metaLeft} bytes after the header)", 16);
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
#if NET
                    if (_file != null) ReadAt((int)(hdrLen + layoutOff), (int)layoutLen);
#endif
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

            [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
            private void BadStr(string what, uint strOff, uint strEnd, int at, int id)
                => throw Err($"{what} string offset {strOff} is outside the string section (length {strEnd})", at, id);

            [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
            private void BadId(uint refId, uint total, int at, int id)
                => throw Err($"refers to type id {refId}, but the BTF has only {total} ids", at, id);

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
    }
}
