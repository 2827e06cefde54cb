namespace MemWatch.IntegrationTests.DotNet;

/// <summary>.NET target tests run one at a time: they count this process's EventPipe sessions and threads.</summary>
[CollectionDefinition(Name)]
public sealed class DotNetTargetsCollection
{
    public const string Name = "dotnet-targets";
}
