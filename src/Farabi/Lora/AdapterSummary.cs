using System.Text.RegularExpressions;
using Farabi.IO;

namespace Farabi.Lora;

/// <summary>One adapted module of an adapter file: its path, rank and the shapes of its tensors.</summary>
public sealed record AdapterModuleSummary(string Module, int Rank, IReadOnlyDictionary<string, long[]> Tensors)
{
    /// <summary>Number of values the module's adapter tensors hold.</summary>
    public long Parameters => Tensors.Values.Sum(s => s.Aggregate(1L, (a, b) => a * b));

    /// <summary>Input width, from A's shape (0 when A is absent).</summary>
    public long InFeatures => Tensors.TryGetValue("lora_A.weight", out var a) ? a[1] : Tensors.TryGetValue("lora_embedding_A", out var e) ? e[1] : 0;

    /// <summary>Output width, from B's shape (0 when B is absent).</summary>
    public long OutFeatures => Tensors.TryGetValue("lora_B.weight", out var b) ? b[0] : Tensors.TryGetValue("lora_embedding_B", out var e) ? e[0] : 0;
}

/// <summary>
/// What a PEFT LoRA folder holds, read without any model: its config and, per module, the rank and tensor
/// shapes found in <c>adapter_model.safetensors</c> (only the header is read).
/// </summary>
public sealed record AdapterSummary(string Directory, LoraConfig Config, IReadOnlyList<AdapterModuleSummary> Modules, IReadOnlyDictionary<string, long[]> OtherTensors)
{
    static readonly Regex LoraKey = new(@"^(?<module>.+)\.(?<suffix>lora_A\.weight|lora_B\.weight|lora_magnitude_vector|lora_embedding_A|lora_embedding_B)$");

    /// <summary>Number of values in the file (adapters, saved modules and biases).</summary>
    public long TotalParameters => Modules.Sum(m => m.Parameters) + OtherTensors.Values.Sum(s => s.Aggregate(1L, (a, b) => a * b));

    /// <summary>Reads the folder's <c>adapter_config.json</c> and the header of <c>adapter_model.safetensors</c>.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="FormatException">A malformed config.</exception>
    /// <exception cref="InvalidDataException">A corrupt weights file, or tensors that contradict each other.</exception>
    public static AdapterSummary Read(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"Adapter folder '{directory}' does not exist.");
        var config = LoraConfig.Load(Path.Combine(directory, LoraConfig.FileName));
        var weights = Path.Combine(directory, LoraModel.WeightsFileName);
        if (!File.Exists(weights)) throw new FileNotFoundException($"Adapter folder '{directory}' has no {LoraModel.WeightsFileName}.", weights);
        using var file = SafetensorsFile.Open(weights);
        var modules = new SortedDictionary<string, Dictionary<string, long[]>>(StringComparer.Ordinal);
        var other = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (key, entry) in file.Entries)
        {
            var name = key.StartsWith(LoraModel.KeyPrefix, StringComparison.Ordinal) ? key[LoraModel.KeyPrefix.Length..] : key;
            var m = LoraKey.Match(name);
            if (!m.Success) { other[name] = entry.Shape; continue; }
            var module = m.Groups["module"].Value;
            if (!modules.TryGetValue(module, out var tensors)) modules[module] = tensors = new Dictionary<string, long[]>(StringComparer.Ordinal);
            tensors[m.Groups["suffix"].Value] = entry.Shape;
        }
        var summaries = new List<AdapterModuleSummary>();
        foreach (var (module, tensors) in modules)
        {
            var rank = tensors.TryGetValue("lora_A.weight", out var a) ? (int)a[0]
                : tensors.TryGetValue("lora_embedding_A", out var e) ? (int)e[0] : 0;
            var bRank = tensors.TryGetValue("lora_B.weight", out var b) ? (int)b[1]
                : tensors.TryGetValue("lora_embedding_B", out var eb) ? (int)eb[1] : rank;
            if (rank != bRank)
                throw new InvalidDataException($"Adapter '{weights}': module '{module}' has A of rank {rank} but B of rank {bRank}.");
            summaries.Add(new AdapterModuleSummary(module, rank, tensors));
        }
        return new AdapterSummary(directory, config, summaries, other);
    }
}
