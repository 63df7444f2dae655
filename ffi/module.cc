// pybind11 module spyxlike._native: hands the XLA FFI handlers to Python as
// PyCapsules; spyxlike.ops registers them with jax.ffi at import.
#include <pybind11/pybind11.h>

#include "handlers.h"

namespace py = pybind11;

namespace {

template <typename Fn>
py::capsule Capsule(Fn* fn) {
  return py::capsule(reinterpret_cast<void*>(fn));
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "spyxlike native kernels (XLA FFI handlers)";
  m.def("registrations", []() {
    py::dict cpu;
    cpu["spyxlike_rank_code"] = Capsule(SpyxlikeRankCode);
    cpu["spyxlike_lif_scan_fwd"] = Capsule(SpyxlikeLifScanFwd);
    cpu["spyxlike_lif_scan_bwd"] = Capsule(SpyxlikeLifScanBwd);
    cpu["spyxlike_lif_scan_bwd_fused"] = Capsule(SpyxlikeLifScanBwdFused);
    cpu["spyxlike_li_scan_fwd"] = Capsule(SpyxlikeLiScanFwd);
    cpu["spyxlike_li_scan_bwd"] = Capsule(SpyxlikeLiScanBwd);
    cpu["spyxlike_spike_matmul"] = Capsule(SpyxlikeSpikeMatmul);
    cpu["spyxlike_spike_matmul_grad_w"] = Capsule(SpyxlikeSpikeMatmulGradW);
    cpu["spyxlike_srm_spike_fwd"] = Capsule(SpyxlikeSrmSpikeFwd);
    cpu["spyxlike_evsim_fc"] = Capsule(SpyxlikeEvsimFc);
    cpu["spyxlike_evsim_to_events"] = Capsule(SpyxlikeEvsimToEvents);
    cpu["spyxlike_evsim_network"] = Capsule(SpyxlikeEvsimNetwork);
    cpu["spyxlike_fire"] = Capsule(SpyxlikeFire);
    cpu["spyxlike_k_winners"] = Capsule(SpyxlikeKWinners);
    cpu["spyxlike_pointwise_inhibit"] = Capsule(SpyxlikePointwiseInhibit);
    cpu["spyxlike_stdp_conv"] = Capsule(SpyxlikeStdpConv);
    cpu["spyxlike_event_conv_fire"] = Capsule(SpyxlikeEventConvFire);
    cpu["spyxlike_conv_fire_winners"] = Capsule(SpyxlikeConvFireWinners);
    cpu["spyxlike_sparse_conv"] = Capsule(SpyxlikeSparseConv);
    cpu["spyxlike_sparse_pool"] = Capsule(SpyxlikeSparsePool);
    cpu["spyxlike_sparse_gather"] = Capsule(SpyxlikeSparseGather);
    cpu["spyxlike_first_crossing"] = Capsule(SpyxlikeFirstCrossing);
    return cpu;
  }, "CPU XLA FFI targets: {name: PyCapsule}.");
}
