using MemWatch.Probes.Discovery;

namespace MemWatch.Probes.Tests.Discovery;

public sealed class ProcessSelectorTests
{
    [Theory]
    [InlineData("/kubepods/burstable/pod1/abc", "/kubepods/burstable/pod1", true)]
    [InlineData("/kubepods/burstable/pod1", "/kubepods/burstable/pod1", true)]
    [InlineData("/kubepods/burstable/pod1", "/kubepods/burstable/pod1/", true)]
    [InlineData("/kubepods/burstable/pod12/abc", "/kubepods/burstable/pod1", false)]
    [InlineData("/system.slice/nginx.service", "/", true)]
    [InlineData("/system.slice", "/system.slice/nginx.service", false)]
    [InlineData("/", "/system.slice", false)]
    public void IsUnderCgroup_WholeSegments(string path, string prefix, bool expected)
        => Assert.Equal(expected, ProcessSelector.IsUnderCgroup(path, prefix));

    [Theory]
    [InlineData("/system.slice/nginx.service", "nginx.service", true)]
    [InlineData("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service", "foo.service", true)]
    [InlineData("/system.slice/nginx.service.d", "nginx.service", false)]
    [InlineData("/system.slice/xnginx.service", "nginx.service", false)]
    [InlineData("/", "nginx.service", false)]
    public void IsInUnit_MatchesOnlyAWholeSegment(string path, string unit, bool expected)
        => Assert.Equal(expected, ProcessSelector.IsInUnit(path, unit));

    [Fact]
    public void NeedsFlags_FollowCriteria()
    {
        Assert.False(new ProcessSelector().NeedsCgroup);
        Assert.True(new ProcessSelector { Unit = "a.service" }.NeedsCgroup);
        Assert.True(new ProcessSelector { CgroupPrefix = "/a" }.NeedsCgroup);
        Assert.True(new ProcessSelector { CommandLine = new System.Text.RegularExpressions.Regex("x") }.NeedsCommandLine);
    }
}
