# cmake -DDIR=<doxygen output dir> -P make-pdf.cmake: run Doxygen's LaTeX Makefile (pdflatex
# several times + makeindex) quietly; on failure show the end of its log.
execute_process(COMMAND make -C ${DIR}/latex pdf OUTPUT_VARIABLE out ERROR_VARIABLE out
	RESULT_VARIABLE rc)
file(WRITE ${DIR}/latex.log "${out}")
if(NOT rc EQUAL 0)
	string(LENGTH "${out}" len)
	if(len GREATER 4000)
		math(EXPR start "${len} - 4000")
		string(SUBSTRING "${out}" ${start} -1 out)
	endif()
	message(FATAL_ERROR "pdflatex failed (full log: ${DIR}/latex.log):\n${out}")
endif()
file(COPY_FILE ${DIR}/latex/refman.pdf ${DIR}/rtslib-c-api.pdf)
