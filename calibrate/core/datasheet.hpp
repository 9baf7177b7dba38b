#pragma once
// Datasheet peaks the fitted efficiencies are relative to. Figures from
// ../shared/reference/hardware_and_models.md §1 (dense FP16/BF16 tensor TFLOPS, peak memory
// bandwidth). Header-only, C++17: only the CUDA binary uses the table below, to tag its JSON on a GPU
// machine that has no catalog; everything on the servetwin side reads configs/gpus
// (catalog_hardware.hpp), and CalibrateCatalog.CudaDatasheetTableMatchesCatalog keeps the two equal.
#include <string>
#include <vector>

namespace servetwin::calibrate {

struct Datasheet {
  std::string gpu;                 // catalog GPU name
  std::vector<std::string> device_names;  // substrings of cudaDeviceProp::name that identify it
  double peak_fp16_flops = 0;
  double mem_bw_bytes_s = 0;
  std::string source = "../shared/reference/hardware_and_models.md §1";
};

inline const std::vector<Datasheet>& datasheets() {
  static const std::vector<Datasheet> d{
      {"A100-80GB-SXM", {"A100-SXM4-80GB", "A100 80GB", "A100-80GB"}, 312e12, 2039e9},
      {"A100-40GB-SXM", {"A100-SXM4-40GB", "A100-40GB", "A100-PCIE-40GB"}, 312e12, 1555e9},
      {"H100-SXM", {"H100 80GB HBM3", "H100-SXM", "H100 SXM"}, 989.4e12, 3350e9},
      {"H100-PCIe", {"H100 PCIe", "H100-PCIe"}, 756e12, 2000e9},
      {"H200", {"H200"}, 989e12, 4800e9},
      {"L40S", {"L40S"}, 362e12, 864e9},
      {"L4", {"L4"}, 121e12, 300e9},
      {"A10G", {"A10G"}, 70e12, 600e9},
      {"A10", {"A10"}, 125e12, 600e9},
  };
  return d;
}

// Exact catalog name first, then device-name substrings in table order (A10G before A10).
inline const Datasheet* find_datasheet(const std::string& name) {
  for (const auto& d : datasheets())
    if (d.gpu == name) return &d;
  for (const auto& d : datasheets())
    for (const auto& s : d.device_names)
      if (name.find(s) != std::string::npos) return &d;
  return nullptr;
}

}  // namespace servetwin::calibrate
