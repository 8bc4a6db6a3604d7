# Installed paths: every destination is relative to the install prefix (GNUInstallDirs), so
# `cmake --install build --prefix DIR` and CPack's staging put everything under DIR, and the
# pkg-config files are written at install time with the prefix actually used.

# Handler plugins, relative to the prefix (an absolute value is honoured as is). Build
# trees configured before this was relative cached the absolute default: make it relative.
if(RTS_HANDLER_DIR STREQUAL "${CMAKE_INSTALL_FULL_LIBDIR}/rts/handlers")
	set(RTS_HANDLER_DIR "${CMAKE_INSTALL_LIBDIR}/rts/handlers" CACHE STRING
		"Installed handler plugins (relative to CMAKE_INSTALL_PREFIX unless absolute)" FORCE)
endif()
set(RTS_HANDLER_DIR "${CMAKE_INSTALL_LIBDIR}/rts/handlers" CACHE STRING
	"Installed handler plugins (relative to CMAKE_INSTALL_PREFIX unless absolute)")
if(IS_ABSOLUTE "${RTS_HANDLER_DIR}")
	set(RTS_HANDLER_DIR_FULL "${RTS_HANDLER_DIR}")
else()
	set(RTS_HANDLER_DIR_FULL "${CMAKE_INSTALL_PREFIX}/${RTS_HANDLER_DIR}")
endif()
# rts-runner looks for handlers relative to its own executable first (relocated installs):
# <dir of rts-runner>/<RTS_HANDLER_DIR_FROM_BINDIR>.
file(RELATIVE_PATH RTS_HANDLER_DIR_FROM_BINDIR "${CMAKE_INSTALL_FULL_BINDIR}" "${RTS_HANDLER_DIR_FULL}")

# ${prefix}-relative form of an install dir for a .pc file.
function(_rts_pc_dir out dir)
	if(IS_ABSOLUTE "${dir}")
		set(${out} "${dir}" PARENT_SCOPE)
	else()
		set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
	endif()
endfunction()
_rts_pc_dir(RTS_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
_rts_pc_dir(RTS_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
_rts_pc_dir(RTS_PC_HANDLERDIR "${RTS_HANDLER_DIR}")

# rts_install_configured(<template.in> <destination> <component> [<name>]): configure the
# template now (@VAR@ from this configure), leaving @RTS_INSTALL_PREFIX@ for install time,
# and install it into <destination> (relative to the prefix) with @RTS_INSTALL_PREFIX@ set to
# the prefix of that install (cmake --install --prefix, CPack, DESTDIR are all honoured).
# The build tree gets a copy for the configured prefix.
function(rts_install_configured template destination component)
	get_filename_component(name "${template}" NAME)
	string(REGEX REPLACE "\\.in$" "" name "${name}")
	if(ARGC GREATER 3)
		set(name "${ARGV3}")
	endif()
	set(RTS_INSTALL_PREFIX "@RTS_INSTALL_PREFIX@")
	set(stage "${CMAKE_CURRENT_BINARY_DIR}/${name}.in")
	configure_file("${template}" "${stage}" @ONLY)
	set(RTS_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
	configure_file("${stage}" "${CMAKE_CURRENT_BINARY_DIR}/${name}" @ONLY)
	if(NOT IS_ABSOLUTE "${destination}")
		set(destination "\${CMAKE_INSTALL_PREFIX}/${destination}")
	endif()
	install(CODE "
		set(RTS_INSTALL_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
		configure_file(\"${stage}\" \"${CMAKE_CURRENT_BINARY_DIR}/install/${name}\" @ONLY)
		file(INSTALL DESTINATION \"${destination}\"
			TYPE FILE FILES \"${CMAKE_CURRENT_BINARY_DIR}/install/${name}\")"
		COMPONENT ${component})
endfunction()

# rts_install_pkgconfig(<template.pc.in> <component>): a .pc file into <libdir>/pkgconfig.
function(rts_install_pkgconfig template component)
	rts_install_configured("${template}" "${CMAKE_INSTALL_LIBDIR}/pkgconfig" ${component})
endfunction()

# systemd units, relative to the prefix (/usr/lib/systemd/system for prefix=/usr).
set(RTS_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
	"systemd system unit directory (relative to CMAKE_INSTALL_PREFIX unless absolute)")

# Installed programs find librts/librts-tcmu beside them ($ORIGIN/../<libdir>) when the
# prefix is not /usr (whose libdir the dynamic linker searches anyway), so a
# `cmake --install --prefix DIR` tree runs without LD_LIBRARY_PATH and can be moved.
# rts_install_rpath(<target>) gives that RUNPATH to one program; only programs that link a
# shared library of ours take it. Not a global CMAKE_INSTALL_RPATH: CMake pads the build-tree
# RUNPATH of every target with ':' to leave room for the install one, and an empty RUNPATH
# entry is the current directory, which the dynamic loader then searches for libc and every
# other library (rtsctl, which links librts statically, had 14 of them).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
	set(_rts_rpath_default OFF)
else()
	set(_rts_rpath_default ON)
endif()
option(RTS_INSTALL_RPATH "Give installed programs a relative RUNPATH to the install libdir"
	${_rts_rpath_default})
set(RTS_PROGRAM_RPATH "")
if(RTS_INSTALL_RPATH AND NOT IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
	file(RELATIVE_PATH _rts_bin_to_lib "${CMAKE_INSTALL_FULL_BINDIR}" "${CMAKE_INSTALL_FULL_LIBDIR}")
	set(RTS_PROGRAM_RPATH "\$ORIGIN/${_rts_bin_to_lib}")
endif()

function(rts_install_rpath tgt)
	if(RTS_PROGRAM_RPATH)
		set_target_properties(${tgt} PROPERTIES INSTALL_RPATH "${RTS_PROGRAM_RPATH}")
	endif()
endfunction()
