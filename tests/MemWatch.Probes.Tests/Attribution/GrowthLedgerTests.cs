using MemWatch.Probes.Attribution;

namespace MemWatch.Probes.Tests.Attribution;

public sealed class GrowthLedgerTests
{
    [Fact]
    public void Release_MunmapOfFaultedPages_GivesThemBack()
    {
        var ledger = new GrowthLedger();
        for (ulong p = 0; p < 8; p++)
        {
            ledger.Fault(0x10000 + (p * 4096) + 12, site: 0, 4096);
        }

        ledger.Fault(0x90000, site: 1, 4096);
        ledger.Release(0x10000, 6 * 4096);
        Assert.Equal(2 * 4096, ledger.LiveBytes(0));
        Assert.Equal(4096, ledger.LiveBytes(1));
        Assert.Equal(6 * 4096, ledger.ReleasedBytes);
        Assert.Equal(9 * 4096, ledger.FaultedBytes);
    }

    [Fact]
    public void Fault_SamePageTwice_CountsOnce()
    {
        var ledger = new GrowthLedger();
        ledger.Fault(0x5000, 0, 4096);
        ledger.Fault(0x5008, 1, 4096);
        Assert.Equal(0, ledger.LiveBytes(0));
        Assert.Equal(4096, ledger.LiveBytes(1));
    }

    [Fact]
    public void BrkTo_ShrinkReleasesAndGrowthIsMapped()
    {
        var ledger = new GrowthLedger { Break = 0x20000 };
        ledger.BrkTo(0x40000, site: 2);
        Assert.Equal(0x20000, ledger.SiteMappedBytes(2));
        ledger.Fault(0x30000, 2, 4096);
        ledger.Fault(0x21000, 2, 4096);
        ledger.BrkTo(0x28000, site: 3);
        Assert.Equal(4096, ledger.LiveBytes(2));
        Assert.Equal(0x40000 - 0x28000, ledger.UnmappedBytes);
    }

    [Fact]
    public void Move_CarriesFaultsSoALaterMunmapStillReleasesThem()
    {
        var ledger = new GrowthLedger();
        ledger.Fault(0x100000, 0, 4096);
        ledger.Fault(0x101000, 0, 4096);
        ledger.Move(0x100000, 0x2000, 0x700000);
        ledger.Release(0x100000, 0x2000);
        Assert.Equal(2 * 4096, ledger.LiveBytes(0));
        ledger.Release(0x700000, 0x2000);
        Assert.Equal(0, ledger.LiveBytes(0));
    }

    [Fact]
    public void Release_HugeRangeWithFewFaults_WalksTheFaults()
    {
        var ledger = new GrowthLedger();
        ledger.Fault(0x7f0000000000, 0, 4096);
        ledger.Release(0, ulong.MaxValue);
        Assert.Equal(0, ledger.LiveBytes(0));
    }

    [Fact]
    public void Exclude_DropsFileBackedPages()
    {
        var ledger = new GrowthLedger();
        ledger.Fault(0x1000, 0, 4096);
        ledger.Fault(0x9000, 0, 4096);
        Assert.Equal(4096, ledger.Exclude(p => p < 0x2000));
        Assert.Equal(4096, ledger.LiveBytes(0));
    }
}
