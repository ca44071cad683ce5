using System.Text;

namespace Farabi.Data;

/// <summary>
/// A small procedurally written English text that <c>farabi lm train</c> uses when no data is given, so the
/// verb runs anywhere. A stand-in: the built-in prose generator (<c>BuiltInText</c>) replaces it when wired in.
/// </summary>
/// <remarks>
/// Sentences follow a handful of templates over small word lists, so a tiny model learns spelling, spacing and
/// a little grammar within a minute; the same seed gives the same text.
/// </remarks>
public static class FallbackTrainingText
{
    static readonly string[] Names = ["the miller", "a young fox", "the old queen", "my brother", "the ferryman", "a quiet scholar", "the baker's daughter", "the captain"];
    static readonly string[] Verbs = ["carried", "found", "watched", "mended", "sold", "remembered", "painted", "followed"];
    static readonly string[] Things = ["a lantern", "the river", "an old map", "the bread", "a small boat", "the garden gate", "a letter", "the bells"];
    static readonly string[] Places = ["by the mill", "at the harbour", "in the market", "under the bridge", "near the orchard", "on the hill", "in the kitchen", "at dawn"];
    static readonly string[] Moods = ["slowly", "gladly", "in silence", "once more", "without a word", "before the rain"];
    static readonly string[] Thoughts = ["the winter would be long", "the road was safe", "the tide had turned", "nobody had seen it", "the price was fair", "the song was old"];

    /// <summary>About <paramref name="characters"/> characters of text drawn with <paramref name="seed"/>.</summary>
    public static string Generate(int characters = 200_000, ulong seed = 1)
    {
        var random = new SeededRandom(seed);
        string Pick(string[] words) => words[random.NextLong(words.Length)];
        var sb = new StringBuilder(characters + 200);
        while (sb.Length < characters)
        {
            var sentence = random.NextLong(4) switch
            {
                0 => $"{Pick(Names)} {Pick(Verbs)} {Pick(Things)} {Pick(Places)}.",
                1 => $"{Pick(Names)} {Pick(Verbs)} {Pick(Things)} {Pick(Moods)}, and {Pick(Names)} {Pick(Verbs)} {Pick(Things)}.",
                2 => $"\"I think {Pick(Thoughts)},\" said {Pick(Names)}.",
                _ => $"{Pick(Places)}, {Pick(Names)} knew that {Pick(Thoughts)}.",
            };
            sb.Append(char.ToUpperInvariant(sentence[0] == '"' ? sentence[1] : sentence[0]) is var c && sentence[0] == '"'
                ? "\"" + c + sentence[2..] : c + sentence[1..]);
            sb.Append(random.NextLong(5) == 0 ? "\n\n" : " ");
        }
        return sb.ToString();
    }
}
