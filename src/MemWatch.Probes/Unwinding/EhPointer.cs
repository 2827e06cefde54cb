namespace MemWatch.Probes.Unwinding;

/// <summary>The <c>DW_EH_PE_*</c> pointer encodings of <c>.eh_frame</c> and <c>.eh_frame_hdr</c> (LSB 1.3, "DWARF Extensions").</summary>
internal static class EhPointer
{
    public const byte Absptr = 0x00;
    public const byte Uleb128 = 0x01;
    public const byte Udata2 = 0x02;
    public const byte Udata4 = 0x03;
    public const byte Udata8 = 0x04;
    public const byte Sleb128 = 0x09;
    public const byte Sdata2 = 0x0a;
    public const byte Sdata4 = 0x0b;
    public const byte Sdata8 = 0x0c;

    public const byte PcRel = 0x10;
    public const byte TextRel = 0x20;
    public const byte DataRel = 0x30;
    public const byte FuncRel = 0x40;
    public const byte Aligned = 0x50;

    public const byte Indirect = 0x80;
    public const byte Omit = 0xff;
}
