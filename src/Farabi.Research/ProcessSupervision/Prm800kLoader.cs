namespace Farabi.Research.ProcessSupervision;

/// <summary>
/// One human rating of one step from PRM800K phase 1: the problem, the steps before it (the prefix),
/// the rated step and the rating.
/// </summary>
/// <param name="Line">1-based line in the source file.</param>
/// <param name="Problem">The MATH problem (<c>instruction</c>).</param>
/// <param name="PriorSteps">The earlier steps of this solution (<c>responses</c>).</param>
/// <param name="Step">The rated step (<c>next_response</c>).</param>
/// <param name="Rating">+1 good, 0 neutral (reasonable but not helpful, or ambiguous), −1 wrong; null for steps a human wrote, which are not rated.</param>
/// <param name="IsSolution">True when the step ends the solution with an answer.</param>
/// <param name="Answer">The final answer the solution gives, on the step that gives it, else null.</param>
/// <param name="IsHumanResponse">True when a rater wrote the step instead of the model.</param>
/// <param name="IsPreferredResponse">True when the rater chose this step to continue the solution.</param>
/// <param name="ErrorReason">The rater's error category (train_plus only), or null.</param>
public sealed record Prm800kStepRating(
    int Line, string Problem, IReadOnlyList<string> PriorSteps, string Step, int? Rating,
    bool IsSolution, string? Answer, bool IsHumanResponse, bool IsPreferredResponse, string? ErrorReason)
{
    /// <summary>The earlier steps joined by newlines (the prefix a classifier reads before the step).</summary>
    public string Prefix => string.Join("\n", PriorSteps);

    /// <summary>
    /// The binary label of a step classifier: true for +1, false for −1, and for 0 whatever
    /// <paramref name="neutralIsPositive"/> says; null for unrated steps. (The paper's PRM predicts three
    /// classes; a binary classifier must decide where neutral steps go, and the choice is the caller's.)
    /// </summary>
    public bool? IsPositive(bool neutralIsPositive) => Rating switch
    {
        1 => true,
        -1 => false,
        0 => neutralIsPositive,
        _ => null,
    };
}

/// <summary>The ratings of one problem, in file order.</summary>
public sealed record Prm800kProblem(string Problem, IReadOnlyList<Prm800kStepRating> Ratings);

/// <summary>
/// Reads PRM800K phase-1 step ratings in the one-rating-per-line layout of the shared data
/// (<c>instruction</c>, <c>responses</c>, <c>next_response</c>, <c>rating</c>, <c>is_solution</c>, <c>answer</c>, ...),
/// plain or gzip. Malformed lines throw <see cref="InvalidDataException"/> naming the file and line.
/// </summary>
public static class Prm800kLoader
{
    /// <summary>The ratings of <paramref name="path"/>, streamed in file order.</summary>
    public static IEnumerable<Prm800kStepRating> Read(string path) => JsonLines.Read(path, (line, o) => ParseRating(path, line, o));

    static Prm800kStepRating ParseRating(string path, int line, System.Text.Json.JsonElement o)
    {
        {
            if (!o.TryGetProperty("responses", out var responses) || responses.ValueKind != System.Text.Json.JsonValueKind.Array)
                throw new InvalidDataException($"{path}:{line}: field \"responses\" is missing or not a list.");
            var prior = new List<string>(responses.GetArrayLength());
            foreach (var r in responses.EnumerateArray())
            {
                if (r.ValueKind != System.Text.Json.JsonValueKind.String) throw new InvalidDataException($"{path}:{line}: \"responses\" holds a {r.ValueKind}, not a string.");
                prior.Add(r.GetString()!);
            }
            int? rating = null;
            if (o.TryGetProperty("rating", out var rv) && rv.ValueKind != System.Text.Json.JsonValueKind.Null)
            {
                if (rv.ValueKind != System.Text.Json.JsonValueKind.Number || !rv.TryGetInt32(out var value) || value is < -1 or > 1)
                    throw new InvalidDataException($"{path}:{line}: field \"rating\" must be -1, 0, 1 or null, not {rv.GetRawText()}.");
                rating = value;
            }
            else if (!o.TryGetProperty("rating", out _))
                throw new InvalidDataException($"{path}:{line}: field \"rating\" is missing.");
            return new Prm800kStepRating(
                line,
                JsonLines.String(o, "instruction", path, line),
                prior,
                JsonLines.String(o, "next_response", path, line),
                rating,
                JsonLines.Bool(o, "is_solution", path, line),
                JsonLines.OptionalString(o, "answer", path, line),
                o.TryGetProperty("is_human_response", out _) && JsonLines.Bool(o, "is_human_response", path, line),
                o.TryGetProperty("is_preferred_response", out _) && JsonLines.Bool(o, "is_preferred_response", path, line),
                JsonLines.OptionalString(o, "error_reason", path, line));
        }
    }

    /// <summary>All ratings of <paramref name="path"/>.</summary>
    public static IReadOnlyList<Prm800kStepRating> Load(string path) => Read(path).ToList();

    /// <summary>Ratings grouped by problem, problems in order of first appearance.</summary>
    public static IReadOnlyList<Prm800kProblem> GroupByProblem(IEnumerable<Prm800kStepRating> ratings) =>
        ratings.GroupBy(r => r.Problem).Select(g => new Prm800kProblem(g.Key, g.ToArray())).ToArray();
}
