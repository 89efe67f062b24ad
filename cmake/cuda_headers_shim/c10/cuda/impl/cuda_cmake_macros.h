// Stand-in for the header LibTorch's CMake generates in a CUDA build; Debian's
// CPU libtorch-dev ships the c10/cuda headers without it. Used only to
// type-check the CUDA trainer sources in CPU builds (trainer/CMakeLists.txt).
#pragma once
