
namespace MemWatch.Daemon.Tests.Cli;

/// <summary>`memwatch --help` names every command the tree holds, so the README and the help cannot drift silently.</summary>
public sealed class HelpTests
{
    [Fact]
    public void RootHelpListsEveryCommand()
    {
        var root = MemWatch.Daemon.Cli.CommandLine.Build(TextWriter.Null, CancellationToken.None);
        MemwatchCli.Result help = MemwatchCli.Run(["--help"]);

        Assert.Equal(0, help.ExitCode);
        Assert.NotEmpty(root.Subcommands);
        foreach (var command in root.Subcommands)
        {
            Assert.Contains(command.Name, help.StandardOutput);
            Assert.False(string.IsNullOrWhiteSpace(command.Description), $"{command.Name} has no description");
        }
    }
}
