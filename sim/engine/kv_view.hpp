#pragma once
// The KV contract shared by every scheduler built from a CapacityPolicy and a BatchPlanner.
//
// Planning reads, commit mutates. An engine keeps its scheduler state (queues, per-request progress,
// the KV cache or its ledger) in one state class that derives from KvView, and changes it only
// through one commit class that derives from KvCommit. A batch planner (batch_planner.hpp) and a
// capacity policy (capacity_policy.hpp) see the state as `const KvView&` (the planner as its own
// concrete `const State&`); every allocation, reservation, free and preemption goes through the
// commit class, which the planner calls for the decisions it took, and the engine calls at a
// step's end and at cancellation.
// State classes today: PagedState / PagedCommit (paged_state.hpp: vLLM V0/V1, static batching,
// TensorRT-LLM-style inflight batching, SGLang) and RouterState / RouterCommit (router_state.hpp:
// TGI and TGIS, whose routers reserve tokens or project batch weights instead of paging).
//
// The quantities below are in the state's own unit (kv_unit(): blocks, tokens, bytes, weight) as
// doubles, like the KV meter (sim/kv/kv_ledger.hpp); block and token counts stay exact integers
// below 2^53, so a policy comparing them decides exactly as integer arithmetic would.
namespace servetwin {

class KvView {
 public:
  KvView() = default;
  KvView(const KvView&) = default;
  KvView& operator=(const KvView&) = default;
  KvView(KvView&&) = default;
  KvView& operator=(KvView&&) = default;
  virtual ~KvView() = default;

  [[nodiscard]] virtual const char* kv_unit() const = 0;
  // Everything the engine can hand out.
  [[nodiscard]] virtual double kv_total() const = 0;
  // What could be taken right now.
  [[nodiscard]] virtual double kv_free() const = 0;
  // What running requests hold or were promised (reserved footprints); 0 when nothing is reserved
  // ahead of use.
  [[nodiscard]] virtual double kv_committed() const = 0;
};

// Base of the one mutating path of a state; a planner receives its engine's commit class through it.
class KvCommit {
 public:
  KvCommit() = default;
  KvCommit(const KvCommit&) = delete;
  KvCommit& operator=(const KvCommit&) = delete;
  KvCommit(KvCommit&&) = delete;
  KvCommit& operator=(KvCommit&&) = delete;
  virtual ~KvCommit() = default;
};

}  // namespace servetwin
