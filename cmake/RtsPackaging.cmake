# Packages with CPack: .deb and .rpm, three per format, all written to <build>/packages:
#   rtslib-c      runtime: librts.so.0, librts-tcmu.so.0, rtsctl, rts-runner, the handlers,
#                 systemd units, the D-Bus policy, man pages, bash completion
#   rtslib-c-dev  headers, librts.pc, rts-handler.pc, the .so links, the SDK example
#   rtslib-c-doc  API reference (HTML, and PDF with RTS_DOCS_PDF), handler guide, README
# `cmake --build build --target package` (or `make deb` / `make rpm`) builds them; the
# packages install under /usr (CPACK_PACKAGING_INSTALL_PREFIX), wherever the build was
# configured to install. `make cleanall` removes them with everything else built.
set(CPACK_PACKAGE_NAME "rtslib-c")
set(CPACK_PACKAGE_VENDOR "rtslib-c")
set(CPACK_PACKAGE_CONTACT "rtslib-c maintainers <rtslib-c@localhost>")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION "C toolkit for the Linux SCSI target (LIO): librts and rtsctl manage
configfs and targetcli's saveconfig.json; rts-runner serves TCMU devices from handler plugins.")
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/packages")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
# install with DESTDIR so CMAKE_INSTALL_PREFIX is /usr while staging: the .pc files and
# systemd units are written with the prefix the package installs to
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX "${CPACK_PACKAGING_INSTALL_PREFIX}")
find_program(RTS_RPMBUILD rpmbuild)
if(RTS_RPMBUILD)
	set(CPACK_GENERATOR "DEB;RPM")
else()
	set(CPACK_GENERATOR "DEB") # apt-get install rpm for the .rpm files
endif()
set(CPACK_COMPONENTS_ALL runtime dev doc)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "LIO configfs library, rtsctl, rts-runner and handlers")
set(CPACK_COMPONENT_DEV_DESCRIPTION "Headers, pkg-config files and example of the rtslib-c SDK")
set(CPACK_COMPONENT_DOC_DESCRIPTION "rtslib-c API reference (HTML, PDF) and guides")
set(CPACK_COMPONENT_DEV_DEPENDS runtime)

# Debian
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME "rtslib-c")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME "rtslib-c-dev")
set(CPACK_DEBIAN_DOC_PACKAGE_NAME "rtslib-c-doc")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_DOC_PACKAGE_SECTION "doc")
set(CPACK_DEBIAN_DOC_PACKAGE_ARCHITECTURE "all")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "liburing-dev")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SUGGESTS "targetcli-fb")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONFLICTS "tcmu-runner")
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

# RPM
set(CPACK_RPM_COMPONENT_INSTALL ON)
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_RUNTIME_PACKAGE_NAME "rtslib-c")
set(CPACK_RPM_DEV_PACKAGE_NAME "rtslib-c-devel")
set(CPACK_RPM_DOC_PACKAGE_NAME "rtslib-c-doc")
set(CPACK_RPM_DOC_PACKAGE_ARCHITECTURE "noarch")
set(CPACK_RPM_PACKAGE_LICENSE "LGPL-2.1-or-later")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_DEV_PACKAGE_REQUIRES "rtslib-c = ${PROJECT_VERSION}, liburing-devel")
# directories the system owns: not ours to list in %files
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
	/usr/lib/systemd /usr/lib/systemd/system /lib/systemd /lib/systemd/system
	/usr/share/dbus-1 /usr/share/dbus-1/system.d /usr/share/bash-completion
	/usr/share/bash-completion/completions /usr/share/man /usr/share/man/man5
	/usr/share/man/man7 /usr/share/man/man8 /usr/lib/pkgconfig /usr/share/doc
	/usr/lib64 /usr/lib64/pkgconfig /usr/include /usr/bin /usr/sbin /usr/lib /usr/share)

include(CPack)

# make deb / make rpm: one format; package: both. Output in ${CPACK_PACKAGE_DIRECTORY}.
add_custom_target(deb
	COMMAND ${CMAKE_CPACK_COMMAND} -G DEB --config ${PROJECT_BINARY_DIR}/CPackConfig.cmake
	WORKING_DIRECTORY ${PROJECT_BINARY_DIR} COMMENT "Building .deb packages into ${CPACK_PACKAGE_DIRECTORY}"
	USES_TERMINAL)
add_custom_target(rpm
	COMMAND ${CMAKE_CPACK_COMMAND} -G RPM --config ${PROJECT_BINARY_DIR}/CPackConfig.cmake
	WORKING_DIRECTORY ${PROJECT_BINARY_DIR} COMMENT "Building .rpm packages into ${CPACK_PACKAGE_DIRECTORY}"
	USES_TERMINAL)
add_dependencies(deb rts rts-tcmu rtsctl rts-runner)
add_dependencies(rpm rts rts-tcmu rtsctl rts-runner)

# make clean removes what the build made; cleanall also the packages and CPack's staging.
add_custom_target(cleanall
	COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target clean
	COMMAND ${CMAKE_COMMAND} -E rm -rf ${CPACK_PACKAGE_DIRECTORY} ${PROJECT_BINARY_DIR}/_CPack_Packages
		${PROJECT_BINARY_DIR}/docs/api
	COMMENT "Removing build outputs, packages and the API reference")
