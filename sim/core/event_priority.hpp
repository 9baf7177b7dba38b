#pragma once
// Event priorities: the order of events scheduled for the same nanosecond (EventQueue runs them by
// (time, priority, insertion order), lower priority first). Every producer of events names one of
// these; the reasons below are the contract that keeps runs deterministic and closed loops tight.
namespace servetwin {

enum class EventPriority : int {
  // An engine step ends: its tokens are emitted and finished requests are released first, so
  // everything else at this instant sees the batch as it is after the step (a finished request's
  // KV is free before anyone is admitted against it).
  kStepEnd = 0,
  // A request reaches the engine (EngineBase::submit, vLLM's API-server hand-off): after step ends,
  // so a closed-loop user's follow-up request submitted at a finish time joins in the same instant.
  kArrival = 1,
  // The load driver (open-loop arrival process, trace replay) sends its next request: after the
  // engine has taken this instant's arrivals and step ends, so a send never overtakes a finish.
  kLoadDriver = 2,
  // A static batch is formed from the requests of this instant: after every same-time arrival and
  // the load driver, so the batch holds all requests submitted together, not only the first.
  kBatchFormation = 3,
};

}  // namespace servetwin
