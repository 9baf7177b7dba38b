#pragma once
// The router loop TGI and its fork TGIS share (../shared/reference/tgis_and_tgi_scheduling.md §1.4,
// §3): a prefill runs alone when nothing runs; before each decode step, an add-on prefill may join
// the running batch (which stalls meanwhile), and a decode step always follows an add-on prefill.
// The engine-specific rules (which batch forms, when an add-on is due, the step shapes) are the
// subclass's: tgi_planner.cpp, tgis_planner.cpp.
#include "sim/engine/batch_planner.hpp"
#include "sim/engine/router_state.hpp"

namespace servetwin {

class RouterLoopPlanner : public RouterPlanner {
 protected:
  bool plan_on(const RouterState& state, RouterCommit& commit, Step& step) final {
    if (state.running().empty()) {
      if (!plan_prefill(state, commit, step, /*addon=*/false)) return false;
      decode_follows_addon_ = false;
      return true;
    }
    if (!decode_follows_addon_ && !state.waiting().empty() && plan_prefill(state, commit, step, /*addon=*/true)) {
      decode_follows_addon_ = true;
      commit.count_addon_prefill();
      return true;
    }
    plan_decode(state, step);
    decode_follows_addon_ = false;
    return true;
  }
  // Forms and commits a prefill batch: with nothing running (addon false), or as an add-on to the
  // running batch; false (nothing changed) when none is due or none fits.
  virtual bool plan_prefill(const RouterState& state, RouterCommit& commit, Step& step, bool addon) = 0;
  // Decodes the whole running batch.
  virtual void plan_decode(const RouterState& state, Step& step) const = 0;

 private:
  bool decode_follows_addon_ = false;  // the last step planned was an add-on prefill
};

}  // namespace servetwin
