# The AF_PACKET capture addon. Linux only: elsewhere the target builds nothing, so `npm install` still
# succeeds and src/roles/io/capture.ts reports capture as unsupported on that platform.
{
  "targets": [
    {
      "target_name": "dsiem_capture",
      "sources": ["src/addon.cc", "src/capture.cc", "src/js_options.cc", "src/ring.cc", "src/inject.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-O2", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
