using FastLog.Interop;

namespace FastLog.Frontends.Fuse;

/// <summary>
/// The filesystem a <see cref="FuseSession"/> shows: a root directory holding one regular file, <see cref="Name"/>,
/// whose size is the device's and cannot change. Every method writes its reply payload and returns its length, or a
/// negative errno.
/// </summary>
internal static unsafe class FuseDiskFile
{
    public const string Name = "disk";
    private static ReadOnlySpan<byte> NameUtf8 => "disk"u8;
    private const ulong ValidSeconds = 86400;
    private const int BlockSize = 4096;

    public static int Lookup(ulong parent, byte* name, int nameLength, long size, FuseEntryOut* entry)
    {
        if (parent != FuseConst.RootId || !NameIs(name, nameLength))
            return -Libc.ENOENT;
        *entry = default;
        entry->NodeId = FuseConst.FileId;
        entry->Generation = 1;
        entry->EntryValid = ValidSeconds;
        entry->AttrValid = ValidSeconds;
        FillAttr(&entry->Attr, FuseConst.FileId, size);
        return sizeof(FuseEntryOut);
    }

    public static int GetAttr(ulong nodeId, long size, FuseAttrOut* output)
    {
        if (nodeId != FuseConst.RootId && nodeId != FuseConst.FileId)
            return -Libc.ENOENT;
        *output = default;
        output->AttrValid = ValidSeconds;
        FillAttr(&output->Attr, nodeId, size);
        return sizeof(FuseAttrOut);
    }

    /// <summary>The file is the device: its size is fixed. Mode, owner and time changes are accepted and ignored.</summary>
    public static int SetAttr(ulong nodeId, FuseSetAttrIn* set, long size, FuseAttrOut* output) =>
        (set->Valid & FuseConst.FAttrSize) != 0 && (long)set->Size != size ? -Libc.EPERM : GetAttr(nodeId, size, output);

    public static int Open(ulong nodeId, bool directory, FuseOpenOut* open)
    {
        if (nodeId != (directory ? FuseConst.RootId : FuseConst.FileId))
            return directory ? -Libc.ENOTDIR : -Libc.EISDIR;
        *open = default;
        // Direct I/O: no second copy in the FUSE page cache; parallel direct writes: no inode lock per write.
        open->OpenFlags = directory ? 0 : FuseConst.FOpenDirectIo | FuseConst.FOpenParallelDirectWrites;
        return sizeof(FuseOpenOut);
    }

    public static int StatFs(long size, FuseKStatFs* st)
    {
        *st = default;
        st->Blocks = (ulong)(size / BlockSize);
        st->BSize = BlockSize;
        st->FrSize = BlockSize;
        st->NameLen = 255;
        st->Files = 2;
        return sizeof(FuseKStatFs);
    }

    /// <summary>".", ".." and the file, from the entry at the request's offset, as many as fit in <paramref name="room"/>.</summary>
    public static int ReadDir(ulong nodeId, FuseIoIn* input, int room, byte* output)
    {
        if (nodeId != FuseConst.RootId)
            return -Libc.ENOTDIR;
        room = (int)Math.Min(input->Size, (uint)room);
        int used = 0;
        for (ulong index = input->Offset; index < 3; index++)
        {
            ReadOnlySpan<byte> name = index switch { 0 => "."u8, 1 => ".."u8, _ => NameUtf8 };
            int entryLength = (sizeof(FuseDirent) + name.Length + 7) & ~7;
            if (used + entryLength > room)
                break;
            var dirent = (FuseDirent*)(output + used);
            dirent->Ino = index == 2 ? FuseConst.FileId : FuseConst.RootId;
            dirent->Off = index + 1;
            dirent->NameLen = (uint)name.Length;
            dirent->Type = index == 2 ? 8u /* DT_REG */ : 4u /* DT_DIR */;
            var nameBytes = new Span<byte>(output + used + sizeof(FuseDirent), entryLength - sizeof(FuseDirent));
            nameBytes.Clear();
            name.CopyTo(nameBytes);
            used += entryLength;
        }
        return used;
    }

    private static bool NameIs(byte* body, int length)
    {
        var span = new ReadOnlySpan<byte>(body, length);
        int end = span.IndexOf((byte)0);
        return (end < 0 ? span : span[..end]).SequenceEqual(NameUtf8);
    }

    private static void FillAttr(FuseAttr* attr, ulong nodeId, long size)
    {
        *attr = default;
        attr->Ino = nodeId;
        attr->BlkSize = BlockSize;
        if (nodeId == FuseConst.RootId)
        {
            attr->Mode = FuseConst.SIfDir | 0x1ED; // 0755
            attr->NLink = 2;
        }
        else
        {
            attr->Mode = FuseConst.SIfReg | 0x180; // 0600
            attr->NLink = 1;
            attr->Size = (ulong)size;
            attr->Blocks = (ulong)size / 512;
        }
    }
}
