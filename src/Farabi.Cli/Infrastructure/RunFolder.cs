using System.Text.Json;
using System.Text.Json.Nodes;
using Farabi.Tokenizers;

namespace Farabi.Cli;

/// <summary>
/// The folder a long-running verb writes: <c>runs/&lt;verb&gt;-&lt;timestamp&gt;/</c> (or <c>--out</c>) with
/// <c>config.json</c> (everything needed to rerun), <c>metrics.jsonl</c> (one object per eval step),
/// <c>report.md</c> (the headline table) and whatever else the verb puts there (checkpoints, PNGs).
/// </summary>
public sealed class RunFolder
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public string Path { get; }

    RunFolder(string path)
    {
        Path = path;
        Directory.CreateDirectory(path);
    }

    /// <summary>Opens <paramref name="outDir"/>, or a new <c>runs/&lt;verb&gt;-yyyyMMdd-HHmmss</c> when it is null.</summary>
    public static RunFolder Create(string verb, string? outDir)
    {
        if (!string.IsNullOrEmpty(outDir)) return new RunFolder(System.IO.Path.GetFullPath(outDir));
        var stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss");
        var baseName = System.IO.Path.Combine("runs", $"{verb.Replace(' ', '-')}-{stamp}");
        var path = baseName;
        for (var n = 2; Directory.Exists(path); n++) path = $"{baseName}-{n}";
        return new RunFolder(System.IO.Path.GetFullPath(path));
    }

    /// <summary>The full path of a file inside the run folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <c>config.json</c>.</summary>
    public void WriteConfig(object config) => WriteJson("config.json", config);

    /// <summary>Writes any JSON file atomically.</summary>
    public void WriteJson(string name, object value) =>
        AtomicFile.WriteText(File(name), (value is JsonNode n ? n.ToJsonString(Indented) : JsonSerializer.Serialize(value, value.GetType(), Indented)) + "\n");

    /// <summary>Appends one JSON object to <c>metrics.jsonl</c>.</summary>
    public void AppendMetrics(object metrics)
    {
        var line = metrics is JsonNode n ? n.ToJsonString() : JsonSerializer.Serialize(metrics, metrics.GetType());
        System.IO.File.AppendAllText(File("metrics.jsonl"), line + "\n");
    }

    /// <summary>Writes <c>report.md</c> atomically.</summary>
    public void WriteReport(string markdown) => AtomicFile.WriteText(File("report.md"), markdown);
}
