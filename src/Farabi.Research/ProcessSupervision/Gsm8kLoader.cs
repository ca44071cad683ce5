using System.Text.RegularExpressions;

namespace Farabi.Research.ProcessSupervision;

/// <summary>A GSM8K calculator note <c>&lt;&lt;48/2=24&gt;&gt;</c>, checked.</summary>
/// <param name="Expression">The calculation (left of '=').</param>
/// <param name="StatedResult">The result as written (right of '=').</param>
/// <param name="IsArithmeticCorrect">True when the calculation equals the result exactly.</param>
/// <param name="IsGrounded">True when every number it uses is in the question or an earlier note's result.</param>
/// <param name="Error">Why the note could not be checked (then it counts as incorrect), or null.</param>
public sealed record CalculatorNote(string Expression, string StatedResult, bool IsArithmeticCorrect, bool IsGrounded, string? Error);

/// <summary>One line of a GSM8K solution with its calculator notes.</summary>
public sealed record Gsm8kStep(string Text, IReadOnlyList<CalculatorNote> Notes)
{
    /// <summary>+1 when it has notes and all are correct, −1 when one is not, null when it has no note to check.</summary>
    public int? Label => Notes.Count == 0 ? null : Notes.All(n => n.IsArithmeticCorrect) ? 1 : -1;
}

/// <summary>A GSM8K problem with its step-by-step solution split into lines and its notes checked.</summary>
/// <param name="Line">1-based line in the source file.</param>
/// <param name="Question">The word problem.</param>
/// <param name="Solution">The reference solution as in the file (notes and <c>####</c> line included).</param>
/// <param name="FinalAnswer">The answer after <c>####</c>, thousands separators removed.</param>
/// <param name="Steps">The solution's lines before <c>####</c>.</param>
public sealed record Gsm8kExample(int Line, string Question, string Solution, string FinalAnswer, IReadOnlyList<Gsm8kStep> Steps)
{
    /// <summary>True when every calculator note of the solution is arithmetically right.</summary>
    public bool AllNotesCorrect => Steps.All(s => s.Label != -1);

    /// <summary>
    /// Step labels with PRM800K masking: +1 for checked correct steps before the first wrong one, −1 for
    /// the first wrong one, 0 for steps without notes (nothing to check) and for every step after the first error.
    /// </summary>
    public IReadOnlyList<int> StepLabels
    {
        get
        {
            var labels = new int[Steps.Count];
            for (var i = 0; i < Steps.Count; i++)
            {
                labels[i] = Steps[i].Label ?? 0;
                if (labels[i] == -1) break;
            }
            return labels;
        }
    }

    /// <summary>
    /// A checker reference for samples of this problem written in the built-in step format: the
    /// question's numbers, the answer, and the notes' results as the needed quantities. GSM8K relies on
    /// unstated constants ("half", "a dozen"), so add those as <see cref="StepCheckReference.AllowedConstants"/>.
    /// </summary>
    public StepCheckReference Reference => new(
        StepCheckReference.NumbersIn(Question), FinalAnswer,
        Steps.SelectMany(s => s.Notes).Where(n => n.Error == null).Select(n => Rational.ParseDecimal(n.StatedResult.Replace(",", ""))).ToHashSet());

    /// <summary>The solution without calculator notes, as a person wrote it.</summary>
    public string PlainSolution => Gsm8kLoader.StripNotes(Solution);
}

/// <summary>What the calculator-note audit of a GSM8K file found.</summary>
public sealed record Gsm8kAudit(
    int Problems, int Steps, int StepsWithNotes, int Notes, int NotesCorrect, int NotesUnparsable,
    int NotesGrounded, int SolutionsAllNotesCorrect, int FinalAnswerEqualsLastNote);

/// <summary>
/// Reads GSM8K (<c>{"question", "answer"}</c> per line; the answer is the worked solution with
/// <c>&lt;&lt;a*b=c&gt;&gt;</c> calculator notes and a last line <c>#### n</c>) and checks each note's arithmetic
/// exactly, which gives GSM8K solutions step labels without human raters.
/// </summary>
public static partial class Gsm8kLoader
{
    /// <summary>Every example of <paramref name="path"/>; malformed lines throw <see cref="InvalidDataException"/> naming the file and line.</summary>
    public static IReadOnlyList<Gsm8kExample> Load(string path)
    {
        return JsonLines.Read(path, (line, o) =>
            Parse(JsonLines.String(o, "question", path, line), JsonLines.String(o, "answer", path, line), line, path)).ToList();
    }

    /// <summary>One example from its question and answer text.</summary>
    public static Gsm8kExample Parse(string question, string answer, int line = 0, string source = "gsm8k")
    {
        var marker = answer.LastIndexOf("####", StringComparison.Ordinal);
        if (marker < 0) throw new InvalidDataException($"{source}:{line}: the answer has no '#### n' line.");
        var final = AnswerExtractor.FromGsm8k(answer)!;
        if (final.Length == 0) throw new InvalidDataException($"{source}:{line}: nothing follows '####'.");
        var known = new HashSet<Rational>(StepCheckReference.NumbersIn(question));
        var steps = new List<Gsm8kStep>();
        foreach (var raw in answer[..marker].Split('\n'))
        {
            var text = raw.Trim();
            if (text.Length == 0) continue;
            var notes = new List<CalculatorNote>();
            foreach (Match m in Note().Matches(text)) notes.Add(CheckNote(m.Groups[1].Value, known));
            steps.Add(new Gsm8kStep(text, notes));
        }
        return new Gsm8kExample(line, question, answer, final, steps);
    }

    static CalculatorNote CheckNote(string note, HashSet<Rational> known)
    {
        var eq = note.LastIndexOf('=');
        if (eq < 0) return new CalculatorNote(note, "", false, false, "no '=' in the note");
        var expr = note[..eq];
        var stated = note[(eq + 1)..].Trim();
        if (!Rational.TryParseDecimal(stated.Replace(",", ""), out var result))
            return new CalculatorNote(expr, stated, false, false, $"the result '{stated}' is not a number");
        if (!ArithmeticExpression.TryEvaluate(expr, out var calc, out var error))
            return new CalculatorNote(expr, stated, false, false, error);
        var grounded = calc!.Operands.All(known.Contains);
        known.Add(result);
        return new CalculatorNote(expr, stated, calc.Value == result, grounded, null);
    }

    /// <summary>Counts over <paramref name="examples"/>: notes right, solutions with every note right, grounding.</summary>
    public static Gsm8kAudit Audit(IReadOnlyList<Gsm8kExample> examples)
    {
        int steps = 0, withNotes = 0, notes = 0, correct = 0, unparsable = 0, grounded = 0, allCorrect = 0, lastMatches = 0;
        foreach (var e in examples)
        {
            steps += e.Steps.Count;
            withNotes += e.Steps.Count(s => s.Notes.Count > 0);
            var all = e.Steps.SelectMany(s => s.Notes).ToArray();
            notes += all.Length;
            correct += all.Count(n => n.IsArithmeticCorrect);
            unparsable += all.Count(n => n.Error != null);
            grounded += all.Count(n => n.IsGrounded);
            if (e.AllNotesCorrect) allCorrect++;
            if (all.Length > 0 && AnswerEquivalence.AreEquivalent(all[^1].StatedResult, e.FinalAnswer)) lastMatches++;
        }
        return new Gsm8kAudit(examples.Count, steps, withNotes, notes, correct, unparsable, grounded, allCorrect, lastMatches);
    }

    /// <summary><paramref name="solution"/> with every <c>&lt;&lt;...&gt;&gt;</c> note removed.</summary>
    public static string StripNotes(string solution) => Note().Replace(solution, "");

    [GeneratedRegex(@"<<([^<>]*)>>")]
    private static partial Regex Note();
}
