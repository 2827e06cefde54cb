using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Tests.Unwinding;

/// <summary>LEB128 (the examples of DWARF 5 §7.6, tables 7.5 and 7.6) and the DW_EH_PE_* pointer encodings over hand-built bytes.</summary>
public sealed class DwarfReaderTests
{
    [Theory]
    [InlineData(new byte[] { 0x02 }, 2UL)]
    [InlineData(new byte[] { 0x7f }, 127UL)]
    [InlineData(new byte[] { 0x80, 0x01 }, 128UL)]
    [InlineData(new byte[] { 0x81, 0x01 }, 129UL)]
    [InlineData(new byte[] { 0x82, 0x01 }, 130UL)]
    [InlineData(new byte[] { 0xb9, 0x64 }, 12857UL)]
    public void UnsignedLeb128(byte[] bytes, ulong expected)
    {
        var r = new DwarfReader(bytes, 0);
        Assert.Equal(expected, r.Uleb());
        Assert.False(r.Failed);
        Assert.Equal(bytes.Length, r.Position);
    }

    [Theory]
    [InlineData(new byte[] { 0x02 }, 2L)]
    [InlineData(new byte[] { 0x7e }, -2L)]
    [InlineData(new byte[] { 0xff, 0x00 }, 127L)]
    [InlineData(new byte[] { 0x81, 0x7f }, -127L)]
    [InlineData(new byte[] { 0x80, 0x01 }, 128L)]
    [InlineData(new byte[] { 0x80, 0x7f }, -128L)]
    [InlineData(new byte[] { 0x81, 0x01 }, 129L)]
    [InlineData(new byte[] { 0xff, 0x7e }, -129L)]
    public void SignedLeb128(byte[] bytes, long expected)
    {
        var r = new DwarfReader(bytes, 0);
        Assert.Equal(expected, r.Sleb());
        Assert.False(r.Failed);
    }

    [Fact]
    public void TruncatedLeb128Fails()
    {
        var r = new DwarfReader([0x80, 0x80], 0);
        r.Uleb();
        Assert.True(r.Failed);
    }

    [Fact]
    public void PcRelativeSdata4IsRelativeToTheFieldItself()
    {
        // At section address 0x1000, offset 4: -0x10 → 0x1004 - 0x10.
        byte[] bytes = [0, 0, 0, 0, 0xf0, 0xff, 0xff, 0xff];
        var r = new DwarfReader(bytes, 0x1000, 4);
        Assert.Equal(0xff4UL, r.EncodedPointer(EhPointer.PcRel | EhPointer.Sdata4, 0, 0, out bool indirect));
        Assert.False(indirect);
    }

    [Fact]
    public void DataRelativeIsRelativeToTheGivenBase()
    {
        byte[] bytes = [0x10, 0, 0, 0];
        var r = new DwarfReader(bytes, 0x5000);
        Assert.Equal(0x9010UL, r.EncodedPointer(EhPointer.DataRel | EhPointer.Sdata4, 0x9000, 0, out _));
    }

    [Theory]
    [InlineData(EhPointer.Udata2, new byte[] { 0x34, 0x12 }, 0x1234UL)]
    [InlineData(EhPointer.Sdata2, new byte[] { 0xfe, 0xff }, ulong.MaxValue - 1)]
    [InlineData(EhPointer.Udata4, new byte[] { 0x78, 0x56, 0x34, 0x12 }, 0x12345678UL)]
    [InlineData(EhPointer.Udata8, new byte[] { 1, 0, 0, 0, 0, 0, 0, 0x80 }, 0x8000000000000001UL)]
    [InlineData(EhPointer.Absptr, new byte[] { 8, 7, 6, 5, 4, 3, 2, 1 }, 0x0102030405060708UL)]
    [InlineData(EhPointer.Uleb128, new byte[] { 0xb9, 0x64 }, 12857UL)]
    [InlineData(EhPointer.Sleb128, new byte[] { 0x7e }, ulong.MaxValue - 1)]
    public void ValueFormats(byte encoding, byte[] bytes, ulong expected)
    {
        var r = new DwarfReader(bytes, 0x400000);
        Assert.Equal(expected, r.EncodedPointer(encoding, 0, 0, out _));
        Assert.Equal(bytes.Length, r.Position);
    }

    [Fact]
    public void IndirectIsReportedNotFollowed()
    {
        byte[] bytes = [0x08, 0, 0, 0];
        var r = new DwarfReader(bytes, 0x2000);
        ulong slot = r.EncodedPointer(EhPointer.Indirect | EhPointer.PcRel | EhPointer.Sdata4, 0, 0, out bool indirect);
        Assert.True(indirect);
        Assert.Equal(0x2008UL, slot);
    }

    [Fact]
    public void OmitReadsNothingAndTextRelFails()
    {
        var r = new DwarfReader([1, 2, 3, 4], 0);
        Assert.Equal(0UL, r.EncodedPointer(EhPointer.Omit, 0, 0, out _));
        Assert.Equal(0, r.Position);
        r.EncodedPointer(EhPointer.TextRel | EhPointer.Udata4, 0, 0, out _);
        Assert.True(r.Failed);
    }

    [Fact]
    public void AlignedSkipsToTheNextEightByteBoundary()
    {
        byte[] bytes = [0xaa, 0, 0, 0, 0, 0, 0, 0, 0x11, 0, 0, 0, 0, 0, 0, 0];
        var r = new DwarfReader(bytes, 0, 1);
        Assert.Equal(0x11UL, r.EncodedPointer(EhPointer.Aligned, 0, 0, out _));
        Assert.Equal(16, r.Position);
    }

    [Fact]
    public void ReadsPastTheEndFailWithoutThrowing()
    {
        var r = new DwarfReader([1, 2, 3], 0);
        Assert.Equal(0U, r.U32());
        Assert.True(r.Failed);
    }
}
