# Finds LibTorch and defines the imported target atelier::torch.
#
# Two layouts are supported:
#  1. A LibTorch with TorchConfig.cmake found through CMAKE_PREFIX_PATH
#     (a LibTorch zip, or pip's torch: torch.utils.cmake_prefix_path). Used when
#     ATELIER_CUDA is ON, or when Torch_DIR / CMAKE_PREFIX_PATH names one.
#  2. Debian's libtorch-dev: headers under /usr/include, libraries in the
#     multiarch dir. Found by hand, so that a missing or broken TorchConfig.cmake
#     (older Debian releases ship none) does not matter.
# Gloo is used through LibTorch's c10d (USE_C10D_GLOO).

set(ATELIER_TORCH_FOUND OFF)
if(ATELIER_CUDA OR DEFINED Torch_DIR OR CMAKE_PREFIX_PATH)
  find_package(Torch CONFIG QUIET)
  if(Torch_FOUND)
    add_library(atelier_torch INTERFACE)
    target_link_libraries(atelier_torch INTERFACE ${TORCH_LIBRARIES})
    target_include_directories(atelier_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
    target_compile_options(atelier_torch INTERFACE ${TORCH_CXX_FLAGS})
    target_compile_definitions(atelier_torch INTERFACE USE_C10D_GLOO USE_DISTRIBUTED)
    if(ATELIER_CUDA)
      target_compile_definitions(atelier_torch INTERFACE USE_C10D_NCCL ATELIER_WITH_CUDA=1)
    endif()
    set(ATELIER_TORCH_FOUND ON)
    message(STATUS "atelier: LibTorch from TorchConfig.cmake (${Torch_DIR})")
  endif()
endif()

if(NOT ATELIER_TORCH_FOUND)
  # Debian: /usr/include/{ATen,c10,torch/csrc/...}; the C++ API's torch/torch.h
  # lives under torch/csrc/api/include.
  find_path(ATELIER_TORCH_INCLUDE ATen/ATen.h PATHS /usr/include)
  find_path(ATELIER_TORCH_API_INCLUDE torch/torch.h PATHS /usr/include/torch/csrc/api/include)
  find_library(ATELIER_TORCH_LIB torch)
  find_library(ATELIER_TORCH_CPU_LIB torch_cpu)
  find_library(ATELIER_C10_LIB c10)
  if(ATELIER_TORCH_INCLUDE AND ATELIER_TORCH_API_INCLUDE AND ATELIER_TORCH_CPU_LIB AND ATELIER_C10_LIB)
    add_library(atelier_torch INTERFACE)
    target_include_directories(atelier_torch SYSTEM INTERFACE
      "${ATELIER_TORCH_INCLUDE}" "${ATELIER_TORCH_API_INCLUDE}")
    target_link_libraries(atelier_torch INTERFACE
      ${ATELIER_TORCH_LIB} ${ATELIER_TORCH_CPU_LIB} ${ATELIER_C10_LIB} Threads::Threads)
    target_compile_definitions(atelier_torch INTERFACE USE_C10D_GLOO USE_DISTRIBUTED)
    set(ATELIER_TORCH_FOUND ON)
    message(STATUS "atelier: LibTorch from the system layout (${ATELIER_TORCH_CPU_LIB})")
  endif()
endif()

if(ATELIER_TORCH_FOUND)
  add_library(atelier::torch ALIAS atelier_torch)
endif()
if(NOT ATELIER_TORCH_FOUND)
  message(WARNING "atelier: LibTorch not found; the trainer is not built")
  set(ATELIER_BUILD_TRAINER OFF)
elseif(ATELIER_CUDA)
  find_package(CUDAToolkit REQUIRED)
  find_library(ATELIER_NCCL_LIB nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64 REQUIRED)
endif()

