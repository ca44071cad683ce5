using Farabi.Data;

namespace Farabi.Tests.Data;

/// <summary>Small generated texts and token files for data and training tests.</summary>
static class TinyCorpus
{
    static TinyCorpus() => Farabi.Native.GlibcxxCompat.EnsureLoadable();

    /// <summary>A repetitive text (easy to learn) of about <paramref name="characters"/> characters.</summary>
    public static string Text(int characters = 4000) => BuiltInText.Generate(characters, seed: 3);

    /// <summary>Char-level token files (train + val) of <see cref="Text"/> in a new temporary folder.</summary>
    public static TokenCorpusFiles Write(int characters = 4000, double valFraction = 0.1)
    {
        var dir = Farabi.Tests.Models.TinyModels.TempDir();
        var text = Text(characters);
        return TokenCorpus.Write(text, CharTokenizer.FromText(text), Path.Combine(dir, "tiny.bin"), valFraction, ["generated"]);
    }
}
