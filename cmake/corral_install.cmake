# Installs libcorral, its headers and a CMake package: find_package(corral) -> corral::corral.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS corral corral_plugin EXPORT corral_targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The embedder's headers only: what libcorral implements (core, proc, output, jobs, sched, tasks, the
# job service, runner's named processes, and auth's identity), and the plugin interface. The daemon's layers (net, proto, pod, store, the rest of auth) are not in libcorral and their
# headers stay in the source tree; scripts/check-install.sh checks that the installed set is whole.
foreach(dir core proc output jobs sched tasks services runner plugin)
    install(DIRECTORY include/corral/${dir} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/corral)
endforeach()
# Of auth, only who is calling (the job service takes it); tokens and role configuration are the daemon's.
install(FILES include/corral/auth/identity.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/corral/auth)
if(CORRAL_BUILD_APPS)
    # corrald finds the page at ../share/corral/web from its own directory (web/CMakeLists.txt).
    install(TARGETS corral_cli corrald RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    # The full client, which `corral` runs for what its front does not answer (apps/corral/CMakeLists.txt).
    install(TARGETS corral_client RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/corral)
endif()

set(corral_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/corral)
install(EXPORT corral_targets NAMESPACE corral:: FILE corral-targets.cmake DESTINATION ${corral_cmake_dir})
configure_package_config_file(cmake/corral-config.cmake.in ${PROJECT_BINARY_DIR}/corral-config.cmake
                              INSTALL_DESTINATION ${corral_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/corral-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/corral-config.cmake ${PROJECT_BINARY_DIR}/corral-config-version.cmake
        DESTINATION ${corral_cmake_dir})
